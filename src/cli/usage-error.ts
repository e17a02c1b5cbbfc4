/** A mistake in how troupe was called; `command` names the subcommand whose help to print. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/**
 * A command that could not do its work for a reason outside how it was called (a server out of
 * reach, a file that is not a journal): the message says why, and no help follows it.
 */
export class CommandError extends Error {}
