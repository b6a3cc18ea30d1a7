import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../audit/audit-log';
import { CurrentActor, CurrentPrincipal, Principal, RequireRole } from './principal';
import { CreatedTokenResponseDto, CreateTokenDto, TokenResponseDto } from './token.dto';
import { TokensService } from './tokens.service';

@ApiTags('tokens')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Issue an API token (admin, operator, viewer, tenant; admin only) or a join token for agents (operator and admin); the secret is shown once',
  })
  issue(@Body() body: CreateTokenDto, @CurrentActor() actor: Actor, @CurrentPrincipal() principal: Principal): Promise<CreatedTokenResponseDto> {
    return this.tokens.issue(body, actor, principal.role);
  }

  @Get()
  @ApiOperation({ summary: 'List tokens (never their secrets)' })
  list(): Promise<TokenResponseDto[]> {
    return this.tokens.list();
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke a token' })
  revoke(@Param('id', new ParseUUIDPipe()) id: string, @CurrentActor() actor: Actor): Promise<TokenResponseDto> {
    return this.tokens.revoke(id, actor);
  }
}
