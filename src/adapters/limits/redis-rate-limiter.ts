// Token buckets in Redis, spent by one Lua script per lane batch so that any number of nodes
// share LIM-1 and LIM-2 exactly: the script is the core `admitBatch` algorithm, run atomically.
import type { Redis } from 'ioredis';
import { PAIR_RULE, type Admission, type BucketRule } from '../../core/rate-limit.ts';
import type { RateLimiter } from '../../ports/rate-limiter.ts';

/**
 * KEYS[1] the channel's bucket, KEYS[2..] one pair bucket per offered job.
 * ARGV: now, channel rate, channel capacity, pair rate, pair capacity, pause-until (0 = admit).
 * Each bucket is a hash {t = tokens, u = updatedAt}; an absent one is full. The arithmetic follows
 * `takeTokens` operation for operation, so both implementations admit the same jobs.
 * Returns {channelReadyAt or -1, per job: 0 = go, -1 = wait, > 0 = pair retryAt}.
 */
const ADMIT_SCRIPT = `
local now = tonumber(ARGV[1])
local crate, ccap = tonumber(ARGV[2]), tonumber(ARGV[3])
local prate, pcap = tonumber(ARGV[4]), tonumber(ARGV[5])
local pauseUntil = tonumber(ARGV[6])
local function load(key, cap)
  local v = redis.call('HMGET', key, 't', 'u')
  if v[1] then return tonumber(v[1]), tonumber(v[2]) end
  return cap, now
end
local function save(key, t, u, rate, cap)
  redis.call('HSET', key, 't', string.format('%.17g', t), 'u', string.format('%.17g', u))
  local ttl = math.max(0, u - now) + math.ceil(cap / rate * 1000) + 60000
  redis.call('PEXPIRE', key, ttl)
end
local function refill(t, u, rate, cap)
  if now <= u then return t, u end
  return math.min(cap, t + ((now - u) / 1000) * rate), now
end
local ct, cu = load(KEYS[1], ccap)
if pauseUntil > 0 then
  if not (cu >= pauseUntil and ct <= 0) then
    ct, cu = 0, math.max(pauseUntil, cu)
  end
  save(KEYS[1], ct, cu, crate, ccap)
  return {-1}
end
local out = {-1}
local readyAt = -1
for i = 2, #KEYS do
  if readyAt >= 0 then
    out[i] = -1
  else
    local t, u = refill(ct, cu, crate, ccap)
    ct, cu = t, u
    if t < 1 then
      readyAt = u + math.ceil(((1 - t) / crate) * 1000)
      out[i] = -1
    else
      local pt, pu = load(KEYS[i], pcap)
      pt, pu = refill(pt, pu, prate, pcap)
      if pt < 1 then
        save(KEYS[i], pt, pu, prate, pcap)
        out[i] = pu + math.ceil(((1 - pt) / prate) * 1000)
      else
        save(KEYS[i], pt - 1, pu, prate, pcap)
        ct = t - 1
        out[i] = 0
      end
    end
  end
end
out[1] = readyAt
save(KEYS[1], ct, cu, crate, ccap)
return out
`;

export interface RedisRateLimiterOptions {
  /** Namespaces the keys (one Redis may serve several deployments, or tests in parallel). */
  readonly prefix?: string;
  readonly pairRule?: BucketRule;
}

type AdmitCommand = (keyCount: number, ...args: Array<string | number>) => Promise<number[]>;

export function createRedisRateLimiter(
  redis: Redis,
  options: RedisRateLimiterOptions = {},
): RateLimiter {
  const prefix = options.prefix ?? 'parley:';
  const pairRule = options.pairRule ?? PAIR_RULE;
  if (!('parleyAdmit' in redis)) redis.defineCommand('parleyAdmit', { lua: ADMIT_SCRIPT });
  const admit = (redis as unknown as { parleyAdmit: AdmitCommand }).parleyAdmit.bind(redis);
  // The channel id in braces is a Redis Cluster hash tag: a lane's keys live on one shard.
  const channelKey = (channelId: string) => `${prefix}rl:{${channelId}}`;
  return {
    async admit({ channelId, rule, contactIds, now }) {
      if (contactIds.length === 0) return { admissions: [], channelReadyAt: null };
      const keys = [
        channelKey(channelId),
        ...contactIds.map((c) => `${prefix}rl:{${channelId}}:${c}`),
      ];
      const reply = await admit(
        keys.length,
        ...keys,
        now,
        rule.ratePerSecond,
        rule.capacity,
        pairRule.ratePerSecond,
        pairRule.capacity,
        0,
      );
      const [readyAt = -1, ...codes] = reply;
      const admissions: Admission[] = codes.map((code) =>
        code === 0 ? { kind: 'go' } : code < 0 ? { kind: 'wait' } : { kind: 'pair', retryAt: code },
      );
      return { admissions, channelReadyAt: readyAt >= 0 ? readyAt : null };
    },
    async pause(channelId, until) {
      await admit(1, channelKey(channelId), until, 1, 1, 1, 1, until);
    },
    close() {
      // The connection belongs to the caller.
      return Promise.resolve();
    },
  };
}
