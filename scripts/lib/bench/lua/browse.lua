-- GET requests over a list of paths, in turn (the list is shuffled by scripts/bench).
-- Needs PATHS (a list of paths) defined before this file.

local prepared = {}
local index = 0

function init(args)
  for i, path in ipairs(PATHS) do
    prepared[i] = wrk.format("GET", path)
  end
end

function request()
  index = index % #prepared + 1
  return prepared[index]
end
