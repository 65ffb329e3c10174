-- The failed-sign-in flood: sign-ins with a random username and password (HTTP Basic) on
-- every connection, about <mean delay> ms apart, so <connections> * 1000 / <mean delay>
-- sign-ins per second arrive in total, spread out rather than in bursts: wrk asks delay()
-- before a connection's first request too, and the first <connections> delays are random
-- in 0..<mean delay> ms.
-- wrk -t1 -c<connections> ... -s flood.lua http://nginx/auth/api/v1/me -- <mean delay ms> <connections>
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local mean, connections = 6400, 64
local delays = 0
local threads = {}
sent = 0       -- per thread: sign-ins sent, read by done()
statuses = {}  -- per thread: answers to sign-ins by status

local function base64(data)
   local out = {}
   for i = 1, #data, 3 do
      local a, b, c = data:byte(i, i + 2)
      local n = a * 65536 + (b or 0) * 256 + (c or 0)
      for j = 3, 0, -1 do
         local index = math.floor(n / 64 ^ j) % 64
         out[#out + 1] = alphabet:sub(index + 1, index + 1)
      end
      if not c then out[#out] = "=" end
      if not b then out[#out - 1] = "=" end
   end
   return table.concat(out)
end

function setup(thread)
   threads[#threads + 1] = thread
end

function init(args)
   mean = tonumber(args[1] or mean)
   connections = tonumber(args[2] or connections)
   math.randomseed(os.time())
end

function request()
   sent = sent + 1
   local credentials = string.format("flood-%08x:wrong-%08x", math.random(0, 2147483646),
                                     math.random(0, 2147483646))
   return wrk.format("GET", nil, {["Authorization"] = "Basic " .. base64(credentials)})
end

function delay()
   delays = delays + 1
   if delays <= connections then
      return math.random(0, math.floor(mean))
   end
   return math.random(math.floor(mean / 2), math.floor(mean * 3 / 2))
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   for _, thread in ipairs(threads) do
      io.write(string.format("flood-sent %d\n", thread:get("sent")))
      for status, count in pairs(thread:get("statuses")) do
         io.write(string.format("flood-status %d %d\n", status, count))
      end
   end
end
