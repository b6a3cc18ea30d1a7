/** Who made a change: `token:<id>` for a token's holder, `system:<job>` for the scheduler. */
export type Actor = `token:${string}` | `system:${string}`;

export const tokenActor = (tokenId: string): Actor => `token:${tokenId}`;
