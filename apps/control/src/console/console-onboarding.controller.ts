import { Body, Controller, Get, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { CLASSIFICATIONS } from '@dcm/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { tokenActor } from '../common/actor';
import { Public } from '../common/principal';
import { ProblemException } from '../common/problem';
import { CreateTenantDto } from '../tenants/tenant.dto';
import { ConsoleAccess, ConsoleAuthGuard } from './console-auth';
import { ConsoleExceptionFilter } from './console.filter';
import { field, invalidFields, wholeNumber } from './console-forms';
import { OnboardingAnswers, ConsoleOnboardingService } from './console-onboarding.service';
import { ConsoleRequest, ConsoleView, FieldErrors } from './console-view';
import type { MessageKey } from './i18n/en';

/** The built-in classes asked for; custom classes get their quotas through the API or `dcm quotas set`. */
export const ONBOARDING_CLASSES = ['vcpu', 'memory', 'storage'] as const;
const ISOLATIONS = ['shared', 'dedicated'] as const;
const STEPS = ['details', 'classification', 'quotas', 'join-tokens'] as const;
type Step = (typeof STEPS)[number];

const EMPTY: OnboardingAnswers = {
  slug: '',
  name: '',
  contact: '',
  classification: 'OFFICIAL',
  isolation: 'shared',
  quotas: { vcpu: '', memory: '', storage: '' },
  joinTokens: { count: 1, uses: 1, days: 7 },
};

interface OnboardingSession {
  get(key: 'onboard'): Partial<OnboardingAnswers> | undefined;
  set(key: 'onboard', value: Partial<OnboardingAnswers> | undefined): void;
}

/**
 * Onboard an organisation, one question a page (GOV.UK's pattern): details, classification and isolation, quotas, join
 * tokens for its hosts, then "check your answers" and one submit. The answers wait in the sealed session cookie.
 */
@ApiExcludeController()
@Public()
@UseGuards(ConsoleAuthGuard)
@UseFilters(ConsoleExceptionFilter)
@ConsoleAccess('operator')
@Controller('console/onboard')
export class ConsoleOnboardingController {
  constructor(
    private readonly view: ConsoleView,
    private readonly onboarding: ConsoleOnboardingService,
  ) {}

  @Get('details')
  details(@Req() request: ConsoleRequest, @Res() reply: FastifyReply) {
    return this.show(request, reply, 'details');
  }
  @Get('classification')
  classification(@Req() request: ConsoleRequest, @Res() reply: FastifyReply) {
    return this.show(request, reply, 'classification');
  }
  @Get('quotas')
  quotas(@Req() request: ConsoleRequest, @Res() reply: FastifyReply) {
    return this.show(request, reply, 'quotas');
  }
  @Get('join-tokens')
  joinTokens(@Req() request: ConsoleRequest, @Res() reply: FastifyReply) {
    return this.show(request, reply, 'join-tokens');
  }

  @Post('details')
  async saveDetails(@Req() request: ConsoleRequest, @Res() reply: FastifyReply, @Body() body: unknown) {
    const values = { slug: field(body, 'slug').toLowerCase(), name: field(body, 'name'), contact: field(body, 'contact') };
    const refused = await invalidFields(CreateTenantDto, values, ['slug', 'name', 'contact']);
    const errors: FieldErrors = refused.map((name) => ({ field: name, key: `onboard.errors.${name}` as MessageKey }));
    return this.next(request, reply, 'details', values, errors);
  }

  @Post('classification')
  async saveClassification(@Req() request: ConsoleRequest, @Res() reply: FastifyReply, @Body() body: unknown) {
    const classification = CLASSIFICATIONS.find((value) => value === field(body, 'classification'));
    const isolation = ISOLATIONS.find((value) => value === field(body, 'isolation'));
    const errors: FieldErrors = [
      ...(classification ? [] : [{ field: 'classification', key: 'onboard.errors.classification' as MessageKey }]),
      ...(isolation ? [] : [{ field: 'isolation', key: 'onboard.errors.isolation' as MessageKey }]),
    ];
    return this.next(request, reply, 'classification', { classification: classification ?? undefined, isolation: isolation ?? undefined }, errors);
  }

  @Post('quotas')
  async saveQuotas(@Req() request: ConsoleRequest, @Res() reply: FastifyReply, @Body() body: unknown) {
    const quotas = Object.fromEntries(ONBOARDING_CLASSES.map((name) => [name, field(body, name)]));
    const errors: FieldErrors = [];
    // Each class on its own, so that the error names the field; the rules are the API's (units, suffixes, bounds).
    for (const name of ONBOARDING_CLASSES) {
      const refused = await this.onboarding.parseQuotas({ [name]: quotas[name] }).then(
        () => false,
        (error: unknown) => refusal(error),
      );
      if (refused) errors.push({ field: name, key: `onboard.errors.${name}` as MessageKey });
    }
    return this.next(request, reply, 'quotas', { quotas }, errors);
  }

  @Post('join-tokens')
  async saveJoinTokens(@Req() request: ConsoleRequest, @Res() reply: FastifyReply, @Body() body: unknown) {
    const count = wholeNumber(field(body, 'count'), 0, 20);
    const uses = wholeNumber(field(body, 'uses'), 1, 1000);
    const days = wholeNumber(field(body, 'days'), 1, 30);
    const errors: FieldErrors = [
      ...(count === null ? [{ field: 'count', key: 'onboard.errors.count' as MessageKey }] : []),
      ...(uses === null ? [{ field: 'uses', key: 'onboard.errors.uses' as MessageKey }] : []),
      ...(days === null ? [{ field: 'days', key: 'onboard.errors.days' as MessageKey }] : []),
    ];
    const raw = { count: field(body, 'count'), uses: field(body, 'uses'), days: field(body, 'days') };
    if (errors.length > 0) return this.show(request, reply, 'join-tokens', errors, { joinTokens: raw });
    return this.next(request, reply, 'join-tokens', { joinTokens: { count: count!, uses: uses!, days: days! } }, []);
  }

  @Get('check')
  async check(@Req() request: ConsoleRequest, @Res() reply: FastifyReply) {
    const answers = this.answers(request);
    const missing = this.firstUnanswered(answers);
    if (missing) return reply.redirect(`/console/onboard/${missing}`, 303);
    await this.view.page(request, reply, 'onboard-check', { answers: { ...EMPTY, ...answers }, classes: ONBOARDING_CLASSES });
  }

  /** The one submit: everything is created together, or nothing and the refusal is shown on this page. */
  @Post('check')
  async submit(@Req() request: ConsoleRequest, @Res() reply: FastifyReply) {
    const stored = this.answers(request);
    const missing = this.firstUnanswered(stored);
    if (missing) return reply.redirect(`/console/onboard/${missing}`, 303);
    const answers = { ...EMPTY, ...stored } as OnboardingAnswers;
    const principal = request.consoleUser!.principal;
    try {
      const tokens = await this.onboarding.onboard(answers, tokenActor(principal.tokenId), principal.role);
      sessionOf(request).set('onboard', undefined);
      // Shown once: the secrets are in this answer and nowhere else (not in the session, not in a later page).
      await this.view.page(request, reply, 'onboard-done', { answers, tokens });
    } catch (error) {
      const problem = refusal(error);
      if (!problem) throw error;
      const errors: FieldErrors =
        problem.code === 'Conflict'
          ? [{ field: 'slug', key: 'onboard.errors.slugTaken', values: { slug: answers.slug } }]
          : [{ field: 'submit', key: 'onboard.errors.refused', values: { detail: problem.detail } }];
      await this.view.page(request, reply, 'onboard-check', { answers, classes: ONBOARDING_CLASSES, errors }, problem.status);
    }
  }

  private answers(request: FastifyRequest): Partial<OnboardingAnswers> {
    return sessionOf(request).get('onboard') ?? {};
  }

  private firstUnanswered(answers: Partial<OnboardingAnswers>): Step | null {
    if (!answers.slug || !answers.name) return 'details';
    if (!answers.classification || !answers.isolation) return 'classification';
    if (!answers.quotas) return 'quotas';
    if (!answers.joinTokens) return 'join-tokens';
    return null;
  }

  /** A step's page, with the answers so far (and, after a refusal, what was typed: `typed`). */
  private async show(request: ConsoleRequest, reply: FastifyReply, step: Step, errors: FieldErrors = [], typed: Record<string, unknown> = {}) {
    const answers = { ...EMPTY, ...this.answers(request), ...typed };
    const index = STEPS.indexOf(step);
    await this.view.page(
      request,
      reply,
      `onboard-${step}`,
      {
        answers,
        errors,
        step: index + 1,
        steps: STEPS.length,
        back: index === 0 ? '/console/organisations' : `/console/onboard/${STEPS[index - 1]}`,
        classes: ONBOARDING_CLASSES,
        classifications: CLASSIFICATIONS,
        isolations: ISOLATIONS,
      },
      errors.length > 0 ? 400 : 200,
    );
  }

  /** Stores a page's answers and goes on (to the next page, or back to "check your answers" once all were given). */
  private async next(request: ConsoleRequest, reply: FastifyReply, step: Step, values: Partial<OnboardingAnswers>, errors: FieldErrors) {
    if (errors.length > 0) return this.show(request, reply, step, errors, values);
    const stored = this.answers(request);
    const answers = { ...stored, ...values };
    sessionOf(request).set('onboard', answers);
    const following = this.firstUnanswered(answers);
    const index = STEPS.indexOf(step);
    // Changing an answer from "check your answers" returns there; the first pass walks the steps in order.
    const target = following === null ? 'check' : index + 1 < STEPS.length ? STEPS[index + 1] : following;
    return reply.redirect(`/console/onboard/${target}`, 303);
  }
}

function sessionOf(request: FastifyRequest): OnboardingSession {
  return (request as FastifyRequest & { session: OnboardingSession }).session;
}

/** The API's refusal in an error (a 4xx problem), or null for anything else. */
function refusal(error: unknown): { code: string; status: number; detail: string } | null {
  if (!(error instanceof ProblemException) || error.getStatus() >= 500) return null;
  const problem = error.toProblem();
  return { code: problem.code, status: problem.status, detail: String(problem.detail ?? '') };
}
