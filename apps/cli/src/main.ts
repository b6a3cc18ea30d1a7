#!/usr/bin/env node
import { run } from './cli';
import { processPrinter } from './output';

// `dcm tenants list | head -1` closes the pipe early: that is the reader's choice, not a failure worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const { DCM_URL, DCM_TOKEN, DCM_CA_FILE, XDG_CONFIG_HOME } = process.env;
const terminal = process.stderr.isTTY === true;
void run(process.argv.slice(2), { DCM_URL, DCM_TOKEN, DCM_CA_FILE, XDG_CONFIG_HOME }, processPrinter, terminal).then((status) => {
  // exitCode rather than exit(): let stdout drain when it is a pipe.
  process.exitCode = status;
});
