-- Each request presents one of many valid tokens (the cache-TTL study):
--   uniform  every token equally likely;
--   zipf     the token of rank k with weight 1/k^s (a few busy clients, a long tail).
-- wrk ... -s many_tokens.lua URL -- <file, one token a line> <uniform|zipf> [s]
local requests, cumulative = {}, {}
local zipf = false
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("thread_number", counter)
end

function init(args)
   local exponent = tonumber(args[3] or "1")
   zipf = args[2] == "zipf"
   local total = 0
   for token in io.lines(args[1]) do
      requests[#requests + 1] = wrk.format(nil, nil, {["Authorization"] = "Bearer " .. token})
      total = total + 1 / ((#requests) ^ exponent)
      cumulative[#requests] = total
   end
   for i = 1, #cumulative do
      cumulative[i] = cumulative[i] / total
   end
   math.randomseed(os.time() * 1000 + (thread_number or 0))
end

local function zipf_index()
   local r, low, high = math.random(), 1, #cumulative
   while low < high do
      local middle = math.floor((low + high) / 2)
      if cumulative[middle] < r then low = middle + 1 else high = middle end
   end
   return low
end

function request()
   if zipf then
      return requests[zipf_index()]
   end
   return requests[math.random(#requests)]
end
