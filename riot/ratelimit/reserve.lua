-- reserve counts one request in every window of a route's application limit
-- and of a method's limit on it, if all of them have room.
--
-- KEYS[1] is the application limit's base key, KEYS[2] the method's. Under a
-- base, :limits holds the windows as "count:seconds:spanMillis,…"; :w:<seconds>
-- is an open window, a hash of its count n and start s (ms), expiring span ms
-- after s; :block is a pending Retry-After; :inflight holds the tokens of
-- unfinished permits, scored by when they stop counting; :probe is the token
-- of the request learning the method's limits, which are unknown until then.
--
-- ARGV: the application defaults as a spec; the permit's token; how long (ms)
-- an unfinished permit or probe holds.
--
-- Returns {1, now, 1 for a probe else 0} when it counted the request; {0, ms, 0}
-- when a window is full or in its padding, or a Retry-After runs, for that
-- long; {2, ms until the probe expires, 0} while another request probes.
local app, method = KEYS[1], KEYS[2]
local token, hold = ARGV[2], tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local appSpec = redis.call('GET', app .. ':limits')
if not appSpec then
  appSpec = ARGV[1]
  redis.call('SET', app .. ':limits', appSpec)
end
local methodSpec = redis.call('GET', method .. ':limits')

-- wait is how long base has no room: every full window must reset first, so
-- it is the last of their ends, or a pending Retry-After if that is later.
local function wait(base, spec)
  local delay = 0
  local blocked = redis.call('PTTL', base .. ':block')
  if blocked >= 0 then
    delay = math.max(blocked, 1)
  end
  if not spec then
    return delay
  end
  for count, secs in string.gmatch(spec, '(%d+):(%d+):%d+') do
    local key = base .. ':w:' .. secs
    local w = redis.call('HMGET', key, 'n', 's')
    -- In the padding Riot's window may be over already: a request sent now
    -- could open Riot's next window while we count it in this one.
    if w[1] and (tonumber(w[1]) >= tonumber(count) or now >= tonumber(w[2]) + tonumber(secs) * 1000) then
      delay = math.max(delay, redis.call('PTTL', key), 1)
    end
  end
  return delay
end

local delay = math.max(wait(app, appSpec), wait(method, methodSpec))
if delay > 0 then
  return {0, delay, 0}
end
local probe = 0
if not methodSpec then
  if not redis.call('SET', method .. ':probe', token, 'NX', 'PX', hold) then
    return {2, math.max(redis.call('PTTL', method .. ':probe'), 1), 0}
  end
  probe = 1
end

local function take(base, spec)
  if spec then
    for secs, span in string.gmatch(spec, '%d+:(%d+):(%d+)') do
      local key = base .. ':w:' .. secs
      if redis.call('HINCRBY', key, 'n', 1) == 1 then
        redis.call('HSET', key, 's', now)
        redis.call('PEXPIRE', key, span)
      end
    end
  end
  local inflight = base .. ':inflight'
  redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
  redis.call('ZADD', inflight, now + hold, token)
  redis.call('PEXPIRE', inflight, hold)
end

take(app, appSpec)
take(method, methodSpec)
return {1, now, probe}
