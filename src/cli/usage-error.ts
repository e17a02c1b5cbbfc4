// A command line the CLI cannot act on; main.ts prints it with the usage text and exits 1.
export class UsageError extends Error {}
