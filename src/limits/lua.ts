// The one Redis script: the same GCRA as memory.ts, evaluated atomically over all
// keys of one decision (one round trip). Loaded once per connection by ioredis
// (EVAL on first use, EVALSHA after, EVAL again on NOSCRIPT after a Redis restart).
//
// KEYS: the buckets. ARGV: now-ms ('' = use Redis TIME, one clock for the fleet),
// mode ('c' check, 'r' refund, 's' state), cost, then one string with, per key,
// "interval-ms burst flood(0/1)" separated by spaces: one argument instead of three
// per key, because encoding arguments was the client's bottleneck (measured).
// TATs are stored with %.17g so that a double survives the round trip exactly.
// Replies are integers (Redis truncates Lua numbers); -1 stands for infinity.
// Needs Redis ≥ 5 (effects replication by default, so TIME before writes is allowed).
export const LIMIT_LUA = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local mode = ARGV[2]
local cost = tonumber(ARGV[3])
local P = {}
for v in string.gmatch(ARGV[4], '%S+') do P[#P + 1] = v end
local eps = 1e-6
local n = #KEYS
local function tat_of(i)
  local v = redis.call('GET', KEYS[i])
  local t = v and tonumber(v) or now
  if t < now then t = now end
  return t
end

if mode == 'c' then
  local base = redis.call('MGET', unpack(KEYS))
  local hit, hit_retry, hit_flood, hit_rem = 0, 0, false, 0
  local remaining = -1
  for i = 1, n do
    local j = 1 + 3 * (i - 1)
    local T = tonumber(P[j])
    local burst = tonumber(P[j + 1])
    local flood = P[j + 2] == '1'
    local tat = base[i] and tonumber(base[i]) or now
    if tat < now then tat = now end
    base[i] = tat
    local cap = burst * T
    local over = tat + cost * T - now - cap
    if over > eps then
      local retry = -1
      if cost <= burst then retry = math.ceil(over - eps) end
      local worse = false
      if hit == 0 then worse = true
      elseif flood ~= hit_flood then worse = flood
      elseif hit_retry ~= -1 and (retry == -1 or retry > hit_retry) then worse = true end
      if worse then
        hit, hit_retry, hit_flood = i, retry, flood
        hit_rem = math.max(0, math.floor((cap - (tat - now)) / T + eps))
      end
    elseif hit == 0 then
      local rem = math.floor((cap - (tat + cost * T - now)) / T + eps)
      if remaining == -1 or rem < remaining then remaining = rem end
    end
  end
  if hit > 0 then return {0, hit, hit_retry, hit_rem} end
  if cost > 0 then
    for i = 1, n do
      local T = tonumber(P[1 + 3 * (i - 1)])
      local tat = base[i] + cost * T
      redis.call('PSETEX', KEYS[i], math.max(1, math.ceil(tat - now)), string.format('%.17g', tat))
    end
  end
  return {1, 0, 0, remaining}
elseif mode == 'r' then
  for i = 1, n do
    local v = redis.call('GET', KEYS[i])
    if v then
      local tat = tonumber(v) - cost * tonumber(P[1 + 3 * (i - 1)])
      if tat <= now + eps then redis.call('DEL', KEYS[i])
      else redis.call('PSETEX', KEYS[i], math.max(1, math.ceil(tat - now)), string.format('%.17g', tat)) end
    end
  end
  return {}
else
  local out = {}
  for i = 1, n do
    local j = 1 + 3 * (i - 1)
    local T = tonumber(P[j])
    local used = tat_of(i) - now
    out[2 * i - 1] = math.max(0, math.floor((tonumber(P[j + 1]) * T - used) / T + eps))
    out[2 * i] = math.max(0, math.ceil(used - eps))
  end
  return out
end
`;
