/** A mistake in how troupe was called; `command` names the subcommand whose help to print. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}
