/**
 * Following Orthanc's change feed (`GET /changes?since=N&limit=M`): every `StableStudy` change is handed
 * to the inbound path, and the feed position is stored in SQLite after each change, so a restart
 * resumes exactly where it stopped (nothing lost, nothing taken twice — and a series taken twice would
 * still make no second case). While Orthanc cannot be reached the position stays and the read is
 * retried with growing pauses; a study that cannot be read for another reason is recorded as skipped
 * and the feed moves on.
 */
import { isHolocaseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import { feedPosition, recordSkippedStudy, saveFeedPosition } from '../store/pacsStudies.ts';
import type { OrthancClient } from './orthancClient.ts';

export interface ChangeFeedOptions {
  client: OrthancClient;
  db: Database;
  log: Logger;
  /** Called for each study that became stable; may throw (see above). */
  onStableStudy(studyId: string): Promise<unknown>;
  /** Pause when the feed has nothing new (ms). */
  pollMs: number;
  /** First connection: follow from the end of the feed (`now`) or take everything (`start`). */
  startAt: 'now' | 'start';
  /** Changes read per request. */
  batch?: number;
  /** Longest pause while Orthanc is unreachable (ms). */
  maxBackoffMs?: number;
}

export const DEFAULTS = { batch: 100, maxBackoffMs: 30_000 } as const;

/** Where the position is stored (`pacs_feed.source`). */
export const FEED_SOURCE = 'orthanc';

export interface FeedState {
  position: number | undefined;
  /** Orthanc answered the last read. */
  connected: boolean;
  lastError: string | undefined;
  /** Stable studies handled since this process started. */
  studiesSeen: number;
}

export interface ChangeFeed {
  state(): FeedState;
  stop(): Promise<void>;
}

interface Change {
  ChangeType: string;
  ID: string;
  ResourceType: string;
  Seq: number;
}

export function followChangeFeed(options: ChangeFeedOptions): ChangeFeed {
  const o = { ...DEFAULTS, ...options };
  const state: FeedState = { position: feedPosition(o.db, FEED_SOURCE), connected: false, lastError: undefined, studiesSeen: 0 };
  let stopped = false;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const advance = (seq: number) => {
    state.position = seq;
    saveFeedPosition(o.db, FEED_SOURCE, seq);
  };

  /**
   * 1. First connection: the starting position (the feed's end, or 0).
   * 2. Read a batch; hand each StableStudy on, storing the position after each change.
   * 3. Nothing more: wait `pollMs`. Orthanc unreachable: wait longer each time, up to `maxBackoffMs`.
   */
  async function loop(): Promise<void> {
    let backoff = o.pollMs;
    while (!stopped) {
      try {
        if (state.position === undefined) {
          const start = o.startAt === 'now' ? (await o.client.json<{ Last: number }>('/changes?last')).Last : 0;
          advance(start);
        }
        if (!state.connected) o.log.info({ position: state.position, orthanc: o.client.url }, 'PACS change feed following');
        const page = await o.client.json<{ Changes: Change[]; Done: boolean; Last: number }>(`/changes?since=${state.position}&limit=${o.batch}`);
        state.connected = true;
        state.lastError = undefined;
        backoff = o.pollMs;
        for (const change of page.Changes) {
          if (stopped) return;
          if (change.ChangeType === 'StableStudy') await handleStudy(change.ID);
          advance(change.Seq);
        }
        if (page.Changes.length === 0 && page.Last > (state.position ?? 0)) advance(page.Last);
        if (page.Done) await pause(o.pollMs);
      } catch (error) {
        if (stopped) return;
        const message = isHolocaseError(error) ? error.message : 'unexpected error (see the log)';
        if (state.connected || state.lastError !== message) o.log.warn({ err: isHolocaseError(error) ? undefined : error, problem: message }, 'PACS change feed interrupted; retrying');
        state.connected = false;
        state.lastError = message;
        await pause(backoff);
        backoff = Math.min(o.maxBackoffMs, backoff * 2);
      }
    }
  }

  /** A study Orthanc cannot give (gone, damaged) is recorded as skipped; an unreachable Orthanc stops the batch. */
  async function handleStudy(studyId: string): Promise<void> {
    state.studiesSeen++;
    try {
      await o.onStableStudy(studyId);
    } catch (error) {
      if (isHolocaseError(error) && error.code === 'PACS_UNAVAILABLE') throw error;
      const reason = isHolocaseError(error) ? `could not be read: ${error.message}` : 'could not be read (an unexpected error; see the log)';
      if (!isHolocaseError(error)) o.log.error({ err: error, orthancStudyId: studyId }, 'PACS study failed');
      recordSkippedStudy(o.db, { source: 'orthanc', orthancStudyId: studyId, reason });
    }
  }

  const running = loop();
  return {
    state: () => ({ ...state }),
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}
