import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../common/actor';
import { CurrentActor, RequireRole } from '../common/principal';
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
  @ApiOperation({ summary: 'Issue an API token (admin, operator, viewer, tenant) or a join token for agents; the secret is shown once' })
  @ApiCreatedResponse({ type: CreatedTokenResponseDto })
  issue(@Body() body: CreateTokenDto, @CurrentActor() actor: Actor): Promise<CreatedTokenResponseDto> {
    return this.tokens.issue(body, actor);
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
