import type { Signal } from '../services/signals.ts';

/** The most signals one `put` takes: EventBridge's PutEvents takes at most 10 entries. */
export const SIGNAL_BUS_BATCH_SIZE = 10;

/** Where signals leave for other systems on AWS (an EventBridge bus). */
export interface SignalBus {
  /**
   * Puts at most SIGNAL_BUS_BATCH_SIZE signals at once. Answers, for each signal in order,
   * whether the bus accepted it (a bus may refuse some entries of a call and take the rest);
   * throws when the call as a whole failed.
   */
  put(signals: readonly Signal[]): Promise<readonly boolean[]>;
}
