-- feed.util: small helpers for ranking hooks.
--
-- Hooks in this library follow one convention: they adjust c.score in
-- place (a number, or false to drop the candidate) and return c.score,
-- so that several can be chained.

local M = {}

-- a set from a list: set{"a", "b"}["a"] == true
function M.set(list)
    local s = {}
    for i = 1, #(list or {}) do
        s[list[i]] = true
    end
    return s
end

-- whether a candidate's tag list holds any tag of a set
function M.has_any(tags, set)
    for i = 1, #tags do
        if set[tags[i]] then
            return tags[i]
        end
    end
    return nil
end

-- the hooks given, one after the other on the same scores
function M.chain(...)
    local hooks = { ... }
    return function(c, ctx)
        for i = 1, #hooks do
            local r = hooks[i](c, ctx)
            if r ~= nil and r ~= c.score then
                error("feed.util.chain: a hook returned a new table; "
                      .. "chained hooks must adjust c.score in place", 2)
            end
        end
        return c.score
    end
end

return M
