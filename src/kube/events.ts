/**
 * Events (events.k8s.io/v1) on the objects people look at: only for transitions a person
 * should see, never per reconcile, and never with a secret in the note.
 */
import type { Logger } from 'pino';
import type { KubeClient } from './kube-client.js';
import { RESOURCES, resourcePath } from './resource.js';

/** The object an Event is about. */
export interface EventSubject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

/** One Event. */
export interface EventRecord {
  readonly subject: EventSubject;
  readonly type: 'Normal' | 'Warning';
  /** PascalCase, e.g. `CronJobCreated`. */
  readonly reason: string;
  /** PascalCase verb of what the controller did, e.g. `Apply`. */
  readonly action: string;
  readonly note: string;
}

/** The name the controller reports Events under. */
export const REPORTING_CONTROLLER = 'pgbackup.dev/controller';

/** Records Events as one controller instance. */
export class EventRecorder {
  readonly #client: KubeClient;
  readonly #instance: string;
  readonly #log: Logger;

  constructor(client: KubeClient, instance: string, log: Logger) {
    this.#client = client;
    this.#instance = instance;
    this.#log = log;
  }

  /**
   * Records an Event. A failure is logged, not thrown: an Event is a courtesy to people and
   * must not fail the reconcile that caused it.
   */
  async record(event: EventRecord, now: Date): Promise<void> {
    const { subject } = event;
    // MicroTime: RFC 3339 with microseconds.
    const eventTime = now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    try {
      await this.#client.request({
        verb: 'create',
        path: resourcePath(RESOURCES.event, { namespace: subject.namespace }),
        body: {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: {
            generateName: `${subject.name.slice(0, 200)}-`,
            namespace: subject.namespace,
          },
          eventTime,
          reportingController: REPORTING_CONTROLLER,
          reportingInstance: this.#instance.slice(0, 128),
          action: event.action,
          reason: event.reason,
          note: event.note.slice(0, 1024),
          type: event.type,
          regarding: subject,
        },
        what: `record Event ${event.reason} for ${subject.kind} ${subject.namespace}/${subject.name}`,
      });
    } catch (error) {
      this.#log.warn({ err: error, reason: event.reason }, 'could not record an Event');
    }
  }
}
