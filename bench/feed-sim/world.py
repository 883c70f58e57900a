"""The hidden world of the feed simulator: topics, creators, clips,
viewers and the watch model.  Everything here is secret from the server:
the server sees only the catalog lines (a noisy projection of each clip's
latent vector as its embedding) and the events the viewers post.

The world is rebuilt from its seed wherever it is needed (the catalog
generator, each policy's run, the report), so nothing hidden is written
to disk and every process sees the same world.

Model:

  topics      T unit vectors in R^D (the latent space).
  creators    C creators; output is Zipf (clip i's creator drawn with
              probability proportional to 1 / rank^ZIPF_S); each creator
              has a home topic (80% of their clips) and a quality bias.
  clips       latent x = unit(topic centre + LATENT_NOISE * gaussian);
              hidden quality q = creator bias + gaussian; duration
              log-normal (median 15 s, sigma 0.6) clipped to 5..60 s;
              sound Zipf over S sounds.
  embedding   what the catalog says: A x + EMB_NOISE * gaussian, A a
              fixed random D x D matrix: it carries the topic structure
              but not the quality.
  viewers     taste u = unit(mixture of 1..3 topics + noise), an
              engagement bias b.
  watch model the viewer's true (expected) watch ratio of a clip:
                  r = sigmoid(4 (u.x - 0.35) + 0.6 q + b
                              - 0.5 ln(duration / 15))
              the realised ratio is r + N(0, 0.12) clipped to 0.01..1;
              under 0.2 the viewer swipes away (skip); a finished clip
              loops with probability 2 (r - 0.7); likes with
              probability 0.35 r^3, shares 0.06 r^4.
"""

import math
import random

D = 16                 # latent and embedding dimensions
TOPICS = 12
CREATORS = 300
SOUNDS = 150
ZIPF_S = 1.0           # creator output exponent
SOUND_ZIPF_S = 1.0
LATENT_NOISE = 0.45
EMB_NOISE = 0.25
HOME_TOPIC = 0.8       # share of a creator's clips on the home topic

SKIP_BELOW = 0.2


def _unit(v):
    n = math.sqrt(sum(a * a for a in v)) or 1.0
    return [a / n for a in v]


def _gauss_vec(rng, s=1.0):
    return [rng.gauss(0, s) for _ in range(D)]


def _zipf_weights(n, s):
    return [1.0 / (k + 1) ** s for k in range(n)]


def _sigmoid(z):
    if z < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


class Clip:
    __slots__ = ('idx', 'id', 'creator', 'sound', 'topic', 'x', 'q',
                 'duration', 'emb', 'new', 'created')


class Viewer:
    __slots__ = ('idx', 'u', 'bias', 'topics', 'weights')


class World:
    def __init__(self, seed=1, clips=3000, new_clips=40, viewers=1000,
                 now=None):
        rng = random.Random(seed)
        self.seed = seed
        self.rng = rng

        # latent topics and the projection the catalog embedding goes
        # through

        self.topics = [_unit(_gauss_vec(rng)) for _ in range(TOPICS)]
        self.proj = [[rng.gauss(0, 1) / math.sqrt(D) for _ in range(D)]
                     for _ in range(D)]

        # creators: Zipf output by rank; rank is independent of quality

        self.creator_topic = [rng.randrange(TOPICS) for _ in range(CREATORS)]
        self.creator_bias = [rng.gauss(0, 0.5) for _ in range(CREATORS)]
        self.creator_w = _zipf_weights(CREATORS, ZIPF_S)
        self.sound_w = _zipf_weights(SOUNDS, SOUND_ZIPF_S)

        self.now = now if now is not None else 1764100000 + 40 * 86400
        self.clips = []

        for i in range(clips):
            self.clips.append(self._make_clip(rng, 'c%05d' % i, False))

        # the clips uploaded during the run, made now so that every policy
        # gets the same ones

        self.new = [self._make_clip(rng, 'n%04d' % i, True)
                    for i in range(new_clips)]

        self.viewers = []
        vr = random.Random(seed * 7919 + 1)

        for i in range(viewers):
            v = Viewer()
            v.idx = i
            k = vr.choice((1, 1, 2, 2, 2, 3))
            v.topics = vr.sample(range(TOPICS), k)
            w = [vr.gammavariate(1.0, 1.0) for _ in range(k)]
            s = sum(w)
            v.weights = [a / s for a in w]
            u = [0.0] * D
            for t, a in zip(v.topics, v.weights):
                for d in range(D):
                    u[d] += a * self.topics[t][d]
            n = _gauss_vec(vr, 0.3 / math.sqrt(D))
            v.u = _unit([a + b for a, b in zip(u, n)])
            v.bias = vr.gauss(0, 0.3)
            self.viewers.append(v)

        self.by_id = {c.id: c for c in self.clips + self.new}

    def _make_clip(self, rng, cid, new):
        c = Clip()
        c.id = cid
        c.new = new
        c.creator = rng.choices(range(CREATORS), self.creator_w)[0]
        c.topic = (self.creator_topic[c.creator]
                   if rng.random() < HOME_TOPIC else rng.randrange(TOPICS))
        centre = self.topics[c.topic]
        c.x = _unit([a + LATENT_NOISE * rng.gauss(0, 1) / math.sqrt(D)
                     for a in centre])
        c.q = self.creator_bias[c.creator] + rng.gauss(0, 0.7)
        c.duration = min(60.0, max(5.0, math.exp(rng.gauss(math.log(15),
                                                           0.6))))
        c.duration = round(c.duration, 3)
        c.sound = rng.choices(range(SOUNDS), self.sound_w)[0]
        e = [sum(self.proj[i][j] * c.x[j] for j in range(D))
             + rng.gauss(0, EMB_NOISE / math.sqrt(D))
             for i in range(D)]
        c.emb = [round(a, 4) for a in e]
        # the old clips were made over the last 30 days; new ones get the
        # time of their upload
        c.created = 0 if new else self.now - rng.randrange(30 * 86400)
        return c

    # the catalog line the server sees

    @staticmethod
    def catalog_line(c, created):
        segs = [1.0]
        left = c.duration - 1.0
        while left > 2.0 + 1e-9:
            segs.append(2.0)
            left -= 2.0
        if left > 1e-6:
            segs.append(round(left, 3))
        segs_s = ','.join(('%.3f' % s).rstrip('0').rstrip('.') for s in segs)
        emb = ','.join(repr(a) for a in c.emb)
        return ('{"id":"%s","creator":"cr%03d","sound":"snd%03d",'
                '"created":%d,"duration":%s,"caption":"clip %s",'
                '"tags":["sim"],"embedding":[%s],"renditions":[{"name":"360p",'
                '"bandwidth":600000,"resolution":"360x640",'
                '"codecs":"avc1.64001e,mp4a.40.2","segments":[%s]}]}'
                % (c.id, c.creator, c.sound, created, repr(c.duration), c.id,
                   emb, segs_s))

    # the watch model

    @staticmethod
    def true_ratio(v, c):
        a = 0.0
        for p, q in zip(v.u, c.x):
            a += p * q
        z = (4.0 * (a - 0.35) + 0.6 * c.q + v.bias
             - 0.5 * math.log(c.duration / 15.0))
        return _sigmoid(z)

    @staticmethod
    def watch(rng, v, c):
        """One viewing: the event the viewer's app posts, and r."""
        r = World.true_ratio(v, c)
        w = min(1.0, max(0.01, r + rng.gauss(0, 0.12)))
        skip = w < SKIP_BELOW
        loops = 0
        if w >= 0.99:
            while loops < 3 and rng.random() < 2 * (r - 0.7):
                loops += 1
        like = (not skip) and rng.random() < 0.35 * r ** 3
        share = (not skip) and rng.random() < 0.06 * r ** 4
        ms = int((w + loops) * c.duration * 1000)
        return {'watch_ms': ms, 'loops': loops, 'like': like,
                'share': share, 'skip': skip}, r


def cosine(a, b):
    s = na = nb = 0.0
    for p, q in zip(a, b):
        s += p * q
        na += p * p
        nb += q * q
    return s / math.sqrt(na * nb) if na > 0 and nb > 0 else 0.0
