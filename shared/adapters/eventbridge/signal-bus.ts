import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SIGNAL_BUS_BATCH_SIZE, type SignalBus } from '../../ports/signal-bus.ts';
import type { Signal } from '../../services/signals.ts';

/** Every signal's EventBridge `Source`: what a team's rules match on (DESIGN.md section 16). */
export const SIGNAL_SOURCE = 'latchkey';

/**
 * Signals as EventBridge events on one bus: `Source` `latchkey`, `DetailType` the action,
 * `Detail` the signal's data, `Time` the audit event's own time (not when it was put, which a
 * retry moves).
 */
export class EventBridgeSignalBus implements SignalBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  async put(signals: readonly Signal[]): Promise<readonly boolean[]> {
    if (signals.length === 0) return [];
    if (signals.length > SIGNAL_BUS_BATCH_SIZE) throw new Error(`PutEvents takes at most ${SIGNAL_BUS_BATCH_SIZE} entries (got ${signals.length})`);
    const output = await this.client.send(
      new PutEventsCommand({
        Entries: signals.map((signal) => ({
          EventBusName: this.eventBusName,
          Source: SIGNAL_SOURCE,
          DetailType: signal.type,
          Detail: JSON.stringify(signal.data),
          Time: new Date(signal.data.time),
        })),
      }),
    );
    // PutEvents answers one entry per entry sent, in order: an ErrorCode marks one refused.
    const entries = output.Entries ?? [];
    return signals.map((_signal, index) => {
      const entry = entries[index];
      return entry !== undefined && entry.ErrorCode === undefined && entry.EventId !== undefined;
    });
  }
}
