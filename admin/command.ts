import type { Values } from './options.ts';
import type { Target } from './target.ts';

/** What a command is given: its name as typed, its positional arguments, the options and the target. */
export interface CommandInput {
  readonly command: string;
  readonly positionals: readonly string[];
  readonly values: Values;
  readonly target: Target;
  readonly now: () => Date;
}

/** One admin command: prints its result (print in options.ts) or throws. */
export type Command = (input: CommandInput) => Promise<void>;
