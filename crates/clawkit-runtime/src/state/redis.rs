//! The store of a fleet: Redis, through the `redis` crate's connection manager (it reconnects
//! by itself). Every operation is one Lua script, atomic in Redis, whose clock is Redis's own
//! `TIME`, never a client's: the way go-redis/redis_rate runs GCRA.

use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, ScriptInvocation};
use tokio::sync::OnceCell;

use super::gcra::micros;
use super::store::{Bucket, Claim, Record, Store, StoreError, StoreFuture};

/// `now` in microseconds of Redis's clock.
const NOW: &str =
    "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n";

fn script(body: &str) -> Script {
    Script::new(&format!("{NOW}{body}"))
}

/// KEYS[1] the hold, KEYS[2..] the buckets; ARGV interval (µs) and burst per bucket. 0 when
/// taken, else the wait in µs.
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    script(
        "local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if held > now then return held - now end
local wait = 0
local next = {}
for i = 2, #KEYS do
  local interval = tonumber(ARGV[(i - 2) * 2 + 1])
  local burst = tonumber(ARGV[(i - 2) * 2 + 2])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local new = tat + interval
  local over = new - now - interval * burst
  if over > wait then wait = over end
  next[i] = new
end
if wait > 0 then return wait end
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], string.format('%d', next[i]), 'PX', math.floor((next[i] - now) / 1000) + 1)
end
return 0",
    )
});

static HOLD: LazyLock<Script> = LazyLock::new(|| {
    script(
        "local wait = tonumber(ARGV[1])
local untl = now + wait
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if held < untl then
  redis.call('SET', KEYS[1], string.format('%d', untl), 'PX', math.floor(wait / 1000) + 1)
end
return 0",
    )
});

/// A sorted set of holders scored by when their lease ends.
static LEASE: LazyLock<Script> = LazyLock::new(|| {
    script(
        "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local slots = tonumber(ARGV[1])
local ttl = tonumber(ARGV[3])
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) and redis.call('ZCARD', KEYS[1]) >= slots then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.floor(ttl / 1000) + 1000)
return 1",
    )
});

static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', v + 1, 'd', ARGV[2])
return 1",
    )
});

/// A claim is `p:HOLDER` while handled, `d` once done. 0 fresh, 1 busy, 2 done.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'PX', ARGV[2])
  return 0
end
if cur == 'd' then return 2 end
return 1",
    )
});

static FINISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "local cur = redis.call('GET', KEYS[1])
if not cur or cur == 'p:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'd', 'PX', ARGV[2])
end
return 0",
    )
});

static ABANDON: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == 'p:' .. ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0",
    )
});

/// State in Redis, shared by a fleet.
pub struct RedisStore {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError::new("redis", e)
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisStore {
    /// A store at `url` (`redis://[:PASSWORD@]HOST:PORT[/DB]`, `rediss://`). It connects on first
    /// use, and again whenever the connection is lost.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Ok(Self {
            client: redis::Client::open(url).map_err(failed)?,
            conn: OnceCell::new(),
        })
    }

    async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        self.conn
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config))
            .await
            .cloned()
            .map_err(failed)
    }

    fn run<'a, T: redis::FromRedisValue + Send + 'a>(
        &'a self,
        invocation: ScriptInvocation<'a>,
    ) -> StoreFuture<'a, T> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            invocation.invoke_async(&mut conn).await.map_err(failed)
        })
    }
}

impl Store for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn take<'a>(&'a self, hold: &'a str, buckets: &'a [Bucket]) -> StoreFuture<'a, Duration> {
        let mut call = TAKE.prepare_invoke();
        call.key(hold);
        for b in buckets {
            call.key(&b.key)
                .arg(micros(b.interval).max(1))
                .arg(b.burst.max(1));
        }
        Box::pin(async move {
            let wait: i64 = self.run(call).await?;
            Ok(Duration::from_micros(u64::try_from(wait).unwrap_or(0)))
        })
    }

    fn hold<'a>(&'a self, key: &'a str, wait: Duration) -> StoreFuture<'a, ()> {
        let mut call = HOLD.prepare_invoke();
        call.key(key).arg(micros(wait));
        Box::pin(async move {
            let _: i64 = self.run(call).await?;
            Ok(())
        })
    }

    fn lease<'a>(
        &'a self,
        key: &'a str,
        slots: u32,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let mut call = LEASE.prepare_invoke();
        call.key(key).arg(slots.max(1)).arg(holder).arg(micros(ttl));
        Box::pin(async move { Ok(self.run::<i64>(call).await? == 1) })
    }

    fn release<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            redis::cmd("ZREM")
                .arg(key)
                .arg(holder)
                .query_async::<i64>(&mut conn)
                .await
                .map_err(failed)?;
            Ok(())
        })
    }

    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Record>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let (version, value): (Option<u64>, Option<Vec<u8>>) = redis::cmd("HMGET")
                .arg(key)
                .arg("v")
                .arg("d")
                .query_async(&mut conn)
                .await
                .map_err(failed)?;
            Ok(version
                .zip(value)
                .map(|(version, value)| Record { version, value }))
        })
    }

    fn save<'a>(&'a self, key: &'a str, version: u64, value: &'a [u8]) -> StoreFuture<'a, bool> {
        let mut call = SAVE.prepare_invoke();
        call.key(key).arg(version).arg(value);
        Box::pin(async move { Ok(self.run::<i64>(call).await? == 1) })
    }

    fn claim<'a>(&'a self, key: &'a str, holder: &'a str, ttl: Duration) -> StoreFuture<'a, Claim> {
        let mut call = CLAIM.prepare_invoke();
        call.key(key).arg(holder).arg(ms(ttl));
        Box::pin(async move {
            Ok(match self.run::<i64>(call).await? {
                0 => Claim::Fresh,
                2 => Claim::Done,
                _ => Claim::Busy,
            })
        })
    }

    fn finish<'a>(&'a self, key: &'a str, holder: &'a str, keep: Duration) -> StoreFuture<'a, ()> {
        let mut call = FINISH.prepare_invoke();
        call.key(key).arg(holder).arg(ms(keep));
        Box::pin(async move {
            let _: i64 = self.run(call).await?;
            Ok(())
        })
    }

    fn abandon<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        let mut call = ABANDON.prepare_invoke();
        call.key(key).arg(holder);
        Box::pin(async move {
            let _: i64 = self.run(call).await?;
            Ok(())
        })
    }
}
