-- feed.calm: a "calm feed" guardrail.  Clips tagged as divisive are
-- down-ranked (or dropped) unless the viewer engaged with such clips:
-- liked at least "engaged" clips carrying the tag (ctx.liked_tags).
--
--   return require("feed.calm").hook{ tags = { "divisive" },
--                                     penalty = 1.0, drop = false,
--                                     engaged = 1 }

local M = {}

function M.hook(opt)
    opt = opt or {}
    local penalty = opt.penalty or 1.0
    local drop = opt.drop or false
    local engaged = opt.engaged or 1
    local list = opt.tags or { "divisive" }

    return function(c, ctx)
        local score, hit = c.score, c.tagged(list)
        local liked = ctx.liked_tags
        for i = 1, c.n do
            local t = score[i] and hit[i]
            if t and (liked[t] or 0) < engaged then
                if drop then
                    score[i] = false
                else
                    score[i] = score[i] - penalty
                end
            end
        end
        return score
    end
end

return M
