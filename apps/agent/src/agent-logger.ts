/** The part of pino's logger the agent uses, so that specs can hand in a recorder. */
export interface AgentLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}
