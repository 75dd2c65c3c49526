//! Seeded, deterministic ids and numbers (the same data for the same seed), and random ones for
//! secrets and tokens.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use super::clock::unix_millis;

/// SplitMix64: a fast, well-mixed hash of one `u64`, the base of every seeded value here.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Hashes a string with a seed (FNV-1a folded through [`mix`]).
pub fn hash_str(seed: u64, s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// A number in `[0, 1)` from a hash.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Hands out ULID-shaped ids (26 Crockford base32 characters, like CoreClaw's slugs), the same
/// sequence for the same seed.
#[derive(Debug)]
pub struct Ids {
    seed: u64,
    next: AtomicU64,
}

impl Ids {
    /// A sequence for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            next: AtomicU64::new(0),
        }
    }

    /// The next id, starting with `01K` like the vendor's.
    pub fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut h = mix(self.seed ^ mix(n));
        let mut out = String::from("01K");
        for i in 0..23 {
            if i == 12 {
                h = mix(h);
            }
            out.push(CROCKFORD[(h & 31) as usize] as char);
            h >>= 5;
        }
        out
    }
}

/// A random `u64`, different on every call (std's per-process random hash keys, moved on by a
/// counter and the clock): for secrets and ids that must not repeat across runs.
pub fn random_u64() -> u64 {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    hasher.write_i64(unix_millis());
    mix(hasher.finish())
}

/// `n` random `u64`s as lower-case hex (16 characters each): for tokens and secrets.
pub fn random_hex(n: usize) -> String {
    (0..n).map(|_| format!("{:016x}", random_u64())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_per_seed_and_ulid_shaped() {
        let a = Ids::new(7);
        let b = Ids::new(7);
        let first = a.next();
        assert_eq!(first, b.next());
        assert_ne!(first, a.next());
        assert_eq!(first.len(), 26);
        assert!(first.bytes().all(|c| CROCKFORD.contains(&c)));
        assert_ne!(Ids::new(8).next(), first);
    }

    #[test]
    fn unit_is_in_range() {
        for i in 0..1000 {
            let u = unit(mix(i));
            assert!((0.0..1.0).contains(&u));
        }
    }
}
