-- finish ends a permit: it takes the permit out of flight, frees its probe,
-- and applies the limits and counts of its response and a 429's Retry-After.
--
-- KEYS and key layout as in reserve.lua.
--
-- ARGV: the permit's token; when reserve counted it (ms); 1 for a probe;
-- the application spec and count header of the response, then the method's
-- ('' when absent); the budget a Retry-After blocks ('app', 'method' or '')
-- and for how long (ms).
--
-- Returns bit 0 set when the application limits changed, bit 1 for the
-- method's.
local app, method = KEYS[1], KEYS[2]
local token, at = ARGV[1], tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

redis.call('ZREM', app .. ':inflight', token)
redis.call('ZREM', method .. ':inflight', token)
if ARGV[3] == '1' and redis.call('GET', method .. ':probe') == token then
  redis.call('DEL', method .. ':probe')
end

-- observe syncs base with the response's spec and counts and reports whether
-- the limits changed.
local function observe(base, spec, counts)
  if spec == '' then
    return 0
  end
  local changed = 0
  local current = redis.call('GET', base .. ':limits')
  if current ~= spec then
    changed = 1
    -- A window whose length stays keeps its state.
    local old, kept, inflight = {}, {}, nil
    if current then
      for secs in string.gmatch(current, '%d+:(%d+):%d+') do
        old[secs] = true
      end
    end
    for secs, span in string.gmatch(spec, '%d+:(%d+):(%d+)') do
      kept[secs] = true
      if not old[secs] then
        -- A new window is taken to have opened with this request, holding
        -- Riot's count plus every request still in flight, which Riot may
        -- not have counted yet: overcounting once costs a little budget,
        -- undercounting costs 429s.
        local used = 1
        for c, s in string.gmatch(counts, '(%d+):(%d+)') do
          if s == secs then
            used = tonumber(c)
          end
        end
        if not inflight then
          redis.call('ZREMRANGEBYSCORE', base .. ':inflight', '-inf', now)
          inflight = redis.call('ZCARD', base .. ':inflight')
        end
        local key = base .. ':w:' .. secs
        local left = at + tonumber(span) - now
        redis.call('DEL', key)
        if left > 0 then
          redis.call('HSET', key, 'n', used + inflight, 's', at)
          redis.call('PEXPIRE', key, left)
        end
      end
    end
    for secs in pairs(old) do
      if not kept[secs] then
        redis.call('DEL', base .. ':w:' .. secs)
      end
    end
    redis.call('SET', base .. ':limits', spec)
  end
  -- Adopt Riot's count when it is higher (another client on the key), but
  -- only for a request counted in the current window: a late answer from a
  -- window that has since reset would otherwise fill the new one.
  for c, secs in string.gmatch(counts, '(%d+):(%d+)') do
    local key = base .. ':w:' .. secs
    local w = redis.call('HMGET', key, 'n', 's')
    if w[1] and at >= tonumber(w[2]) and tonumber(c) > tonumber(w[1]) then
      redis.call('HSET', key, 'n', c)
    end
  end
  return changed
end

local block, ms = ARGV[8], tonumber(ARGV[9])
if block ~= '' and ms > 0 then
  local key = (block == 'app' and app or method) .. ':block'
  if redis.call('PTTL', key) < ms then
    redis.call('SET', key, '1', 'PX', ms)
  end
end
return observe(app, ARGV[4], ARGV[5]) + 2 * observe(method, ARGV[6], ARGV[7])
