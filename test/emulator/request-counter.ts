/** RequestCounts are the Rancher requests received since start or the last reset (inspection requests excluded). */
export interface RequestCounts {
  total: number;
  writes: number;
  reads: number;
  byRoute: Record<string, number>;
}

/** RequestCounter counts Rancher requests by normalized route; writes are POST, PUT, PATCH and DELETE. */
export class RequestCounter {
  #counts: RequestCounts = { total: 0, writes: 0, reads: 0, byRoute: {} };

  /** record counts one request. */
  record(method: string, route: string): void {
    const counts = this.#counts;
    counts.total++;
    if (method === 'GET' || method === 'HEAD') counts.reads++;
    else counts.writes++;
    counts.byRoute[route] = (counts.byRoute[route] ?? 0) + 1;
  }

  /** snapshot returns a copy that later requests do not change. */
  snapshot(): RequestCounts {
    const { total, writes, reads, byRoute } = this.#counts;
    return { total, writes, reads, byRoute: { ...byRoute } };
  }

  /** reset zeroes every count. */
  reset(): void {
    this.#counts = { total: 0, writes: 0, reads: 0, byRoute: {} };
  }
}
