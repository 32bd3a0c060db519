// The part of autocannon's API bench/api.ts uses (the package ships no types).
declare module 'autocannon' {
  namespace autocannon {
    interface Request { method?: string; path?: string; headers?: Record<string, string>; body?: string }
    interface Options {
      url: string; method?: string; headers?: Record<string, string>; body?: string;
      connections?: number; duration?: number; requests?: Array<{ setupRequest?: (r: Request) => Request }>;
    }
    interface Result {
      requests: { average: number; total: number };
      latency: { p50: number; p99: number; max: number; average: number };
      non2xx: number; errors: number;
    }
  }
  function autocannon(opts: autocannon.Options): Promise<autocannon.Result>;
  export default autocannon;
}
