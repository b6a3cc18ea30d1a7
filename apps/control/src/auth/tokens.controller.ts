import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../common/actor';
import { CurrentActor, CurrentPrincipal, Principal, RequireRole } from '../common/principal';
import { CreatedTokenResponseDto, CreateTokenDto, TokenResponseDto } from './token.dto';
import { TokensService } from './tokens.service';
import { ApiProblems } from '../common/problem.dto';

@ApiTags('tokens')
@ApiBearerAuth()
@RequireRole('admin')
@ApiProblems()
@Controller('v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Issue an API token (admin, operator, viewer, tenant; admin only) or a join token for agents (operator and admin); the secret is shown once',
  })
  @ApiCreatedResponse({ type: CreatedTokenResponseDto })
  issue(@Body() body: CreateTokenDto, @CurrentActor() actor: Actor, @CurrentPrincipal() principal: Principal): Promise<CreatedTokenResponseDto> {
    return this.tokens.issue(body, actor, principal.role);
  }

  @Get()
  @ApiOperation({ summary: 'List tokens (never their secrets)' })
  @ApiOkResponse({ type: [TokenResponseDto] })
  list(): Promise<TokenResponseDto[]> {
    return this.tokens.list();
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke a token' })
  @ApiOkResponse({ type: TokenResponseDto })
  revoke(@Param('id', new ParseUUIDPipe()) id: string, @CurrentActor() actor: Actor): Promise<TokenResponseDto> {
    return this.tokens.revoke(id, actor);
  }
}
