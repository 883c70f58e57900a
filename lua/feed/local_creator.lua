-- feed.local_creator: a boost for creators local to the viewer, by a
-- request header set at the edge (e.g. from GeoIP): the header's value,
-- lowercased, names a list of creators and/or a tag ("city:" .. value).
--
--   return require("feed.local_creator").hook{
--       header = "x-feed-city",            -- lowercase
--       creators = { lisbon = { "ana", "rui" } },
--       tag_prefix = "city:",              -- nil: no tag match
--       boost = 0.4 }

local util = require "feed.util"

local M = {}

function M.hook(opt)
    opt = opt or {}
    local header = opt.header or "x-feed-city"
    local boost = opt.boost or 0.4
    local prefix = opt.tag_prefix
    local creators = {}

    for place, list in pairs(opt.creators or {}) do
        creators[place:lower()] = util.set(list)
    end

    return function(c, ctx)
        local place = ctx.headers[header]
        if not place then
            return nil                  -- no opinion: the C scores
        end

        place = place:lower()
        local mine = creators[place]
        local tag = prefix and prefix .. place
        local score, creator = c.score, c.creator
        local tags = tag and c.tags

        for i = 1, c.n do
            if score[i] then
                local hit = mine and mine[creator[i]]
                if not hit and tag then
                    local t = tags[i]
                    for k = 1, #t do
                        if t[k] == tag then
                            hit = true
                            break
                        end
                    end
                end
                if hit then
                    score[i] = score[i] + boost
                end
            end
        end
        return score
    end
end

return M
