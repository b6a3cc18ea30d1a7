import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SignInRequired } from './console-auth';
import { ConsoleRequest, ConsoleView } from './console-view';

/** Console pages answer with pages: not signed in → the sign-in page; anything else → an error page with the API's status. */
@Catch()
export class ConsoleExceptionFilter implements ExceptionFilter {
  constructor(private readonly view: ConsoleView) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const request = host.switchToHttp().getRequest<ConsoleRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (exception instanceof SignInRequired) {
      await reply.redirect('/console/sign-in', 303);
      return;
    }
    await this.view.errorPage(request, reply, exception);
  }
}
