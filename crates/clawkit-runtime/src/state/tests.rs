//! Every store answers the same: one conformance test run on memory, SQLite and (when
//! `CLAWKIT_TEST_REDIS` names a server) Redis.

use std::sync::Arc;
use std::time::Duration;

use super::*;

async fn conformance(store: Arc<dyn Store>, ns: &str) {
    let k = |what: &str| format!("test:{ns}:{what}");
    // GCRA: a burst of 3, then one per 200 ms; all-or-nothing across two buckets.
    let a = Bucket::new(k("a"), Duration::from_millis(200), 3);
    let b = Bucket::new(k("b"), Duration::from_millis(200), 1);
    for _ in 0..3 {
        assert!(
            store
                .take(&k("hold"), std::slice::from_ref(&a))
                .await
                .unwrap()
                .is_zero()
        );
    }
    let wait = store
        .take(&k("hold"), std::slice::from_ref(&a))
        .await
        .unwrap();
    assert!(
        wait > Duration::from_millis(100) && wait <= Duration::from_millis(200),
        "{wait:?}"
    );
    assert!(
        store
            .take(&k("hold"), std::slice::from_ref(&b))
            .await
            .unwrap()
            .is_zero()
    );
    let c = Bucket::new(k("c"), Duration::from_millis(10), 5);
    assert!(
        !store
            .take(&k("hold"), &[c.clone(), b.clone()])
            .await
            .unwrap()
            .is_zero()
    );
    for _ in 0..5 {
        assert!(
            store
                .take(&k("hold"), std::slice::from_ref(&c))
                .await
                .unwrap()
                .is_zero(),
            "c was not taken from when b refused"
        );
    }
    // A hold stops everyone, only lengthens, and ends.
    store
        .hold(&k("hold2"), Duration::from_millis(300))
        .await
        .unwrap();
    store
        .hold(&k("hold2"), Duration::from_millis(10))
        .await
        .unwrap();
    let held = store.take(&k("hold2"), &[]).await.unwrap();
    assert!(held > Duration::from_millis(200), "{held:?}");
    // Leases: two slots; a third waits; a release frees one; an expired one frees itself.
    let l = k("lease");
    assert!(
        store
            .lease(&l, 2, "x", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        store
            .lease(&l, 2, "y", Duration::from_millis(150))
            .await
            .unwrap()
    );
    assert!(
        !store
            .lease(&l, 2, "z", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        store
            .lease(&l, 2, "x", Duration::from_secs(30))
            .await
            .unwrap(),
        "renewed"
    );
    store.release(&l, "x").await.unwrap();
    assert!(
        store
            .lease(&l, 2, "z", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        !store
            .lease(&l, 2, "w", Duration::from_secs(30))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        store
            .lease(&l, 2, "w", Duration::from_secs(30))
            .await
            .unwrap(),
        "y expired"
    );
    // Records: compare-and-set on the version.
    let r = k("record");
    assert_eq!(store.load(&r).await.unwrap(), None);
    assert!(store.save(&r, 0, b"one").await.unwrap());
    assert!(!store.save(&r, 0, b"two").await.unwrap());
    let got = store.load(&r).await.unwrap().unwrap();
    assert_eq!((got.version, &got.value[..]), (1, &b"one"[..]));
    assert!(store.save(&r, 1, b"two").await.unwrap());
    assert_eq!(store.load(&r).await.unwrap().unwrap().version, 2);
    // Claims: fresh, busy, abandoned (only by its holder), done, expired.
    let c = k("claim");
    assert_eq!(
        store
            .claim(&c, "h1", Duration::from_secs(30))
            .await
            .unwrap(),
        Claim::Fresh
    );
    assert_eq!(
        store
            .claim(&c, "h2", Duration::from_secs(30))
            .await
            .unwrap(),
        Claim::Busy
    );
    store.abandon(&c, "h2").await.unwrap();
    assert_eq!(
        store
            .claim(&c, "h2", Duration::from_secs(30))
            .await
            .unwrap(),
        Claim::Busy
    );
    store.abandon(&c, "h1").await.unwrap();
    assert_eq!(
        store
            .claim(&c, "h2", Duration::from_secs(30))
            .await
            .unwrap(),
        Claim::Fresh
    );
    store
        .finish(&c, "h2", Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        store
            .claim(&c, "h3", Duration::from_secs(30))
            .await
            .unwrap(),
        Claim::Done
    );
    let e = k("expiring");
    assert_eq!(
        store
            .claim(&e, "h1", Duration::from_millis(100))
            .await
            .unwrap(),
        Claim::Fresh
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        store
            .claim(&e, "h2", Duration::from_secs(30))
            .await
            .unwrap(),
        Claim::Fresh
    );
}

#[tokio::test]
async fn memory_conforms() {
    conformance(Arc::new(MemoryStore::new()), "memory").await;
}

#[cfg(feature = "state-sqlite")]
#[tokio::test]
async fn sqlite_conforms_and_is_private() {
    let dir = std::env::temp_dir().join(format!("clawkit-state-{}", holder_id()));
    let path = dir.join("nested/state.db");
    let store = SqliteStore::open(&path).unwrap();
    conformance(Arc::new(store), "sqlite").await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// `CLAWKIT_TEST_REDIS` (a redis:// URL) under CI; a developer without Redis is told it was
/// skipped.
#[cfg(feature = "state-redis")]
pub(crate) fn test_redis() -> Option<String> {
    match std::env::var("CLAWKIT_TEST_REDIS") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI needs CLAWKIT_TEST_REDIS (a redis:// URL): .ci/run starts redis-server")
        }
        _ => {
            eprintln!("SKIPPED: no CLAWKIT_TEST_REDIS, so the Redis store is not tested");
            None
        }
    }
}

#[cfg(feature = "state-redis")]
#[tokio::test]
async fn redis_conforms() {
    let Some(url) = test_redis() else { return };
    conformance(Arc::new(RedisStore::open(&url).unwrap()), &holder_id()).await;
}

#[tokio::test]
async fn an_unreachable_store_falls_back_to_a_share_and_rejoins() {
    #[derive(Debug, Default)]
    struct Flaky(std::sync::atomic::AtomicBool, MemoryStore);
    impl Flaky {
        fn up(&self) -> Result<(), StoreError> {
            if self.0.load(std::sync::atomic::Ordering::SeqCst) {
                Ok(())
            } else {
                Err(StoreError::new("redis", "connection refused"))
            }
        }
    }
    macro_rules! via {
        ($self:ident, $call:expr) => {
            Box::pin(async move {
                $self.up()?;
                $call.await
            })
        };
    }
    impl Store for Flaky {
        fn kind(&self) -> &'static str {
            "redis"
        }
        fn take<'a>(&'a self, h: &'a str, b: &'a [Bucket]) -> StoreFuture<'a, Duration> {
            via!(self, self.1.take(h, b))
        }
        fn hold<'a>(&'a self, k: &'a str, w: Duration) -> StoreFuture<'a, ()> {
            via!(self, self.1.hold(k, w))
        }
        fn lease<'a>(
            &'a self,
            k: &'a str,
            s: u32,
            h: &'a str,
            t: Duration,
        ) -> StoreFuture<'a, bool> {
            via!(self, self.1.lease(k, s, h, t))
        }
        fn release<'a>(&'a self, k: &'a str, h: &'a str) -> StoreFuture<'a, ()> {
            via!(self, self.1.release(k, h))
        }
        fn load<'a>(&'a self, k: &'a str) -> StoreFuture<'a, Option<Record>> {
            via!(self, self.1.load(k))
        }
        fn save<'a>(&'a self, k: &'a str, v: u64, b: &'a [u8]) -> StoreFuture<'a, bool> {
            via!(self, self.1.save(k, v, b))
        }
        fn claim<'a>(&'a self, k: &'a str, h: &'a str, t: Duration) -> StoreFuture<'a, Claim> {
            via!(self, self.1.claim(k, h, t))
        }
        fn finish<'a>(&'a self, k: &'a str, h: &'a str, t: Duration) -> StoreFuture<'a, ()> {
            via!(self, self.1.finish(k, h, t))
        }
        fn abandon<'a>(&'a self, k: &'a str, h: &'a str) -> StoreFuture<'a, ()> {
            via!(self, self.1.abandon(k, h))
        }
    }
    let remote = Arc::new(Flaky::default());
    let store = Resilient::new(remote.clone(), 4);
    // Down: a burst of 8 becomes this process's 2.
    let bucket = [Bucket::new("k", Duration::from_millis(100), 8)];
    assert!(store.take("h", &bucket).await.unwrap().is_zero());
    assert!(store.is_degraded());
    assert!(store.take("h", &bucket).await.unwrap().is_zero());
    let wait = store.take("h", &bucket).await.unwrap();
    assert!(
        wait > Duration::from_millis(300),
        "one per 400 ms: {wait:?}"
    );
    // Up again: the next probe rejoins, with the whole burst.
    remote.0.store(true, std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1_050)).await;
    for _ in 0..8 {
        assert!(store.take("h", &bucket).await.unwrap().is_zero());
    }
    assert!(!store.is_degraded());
}
