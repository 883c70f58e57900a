-- feed.freshness: a boost for new clips, halving every half_life seconds.
--
--   return require("feed.freshness").hook{ weight = 0.3,
--                                          half_life = 6 * 3600,
--                                          max_age = 2 * 86400 }

local M = {}

function M.hook(opt)
    opt = opt or {}
    local weight = opt.weight or 0.3
    local half_life = opt.half_life or 6 * 3600
    local max_age = opt.max_age or 2 * 86400

    return function(c, ctx)
        local score, age = c.score, c.age
        for i = 1, c.n do
            local a = age[i]
            if score[i] and a < max_age then
                score[i] = score[i] + weight * 0.5 ^ (a / half_life)
            end
        end
        return score
    end
end

return M
