//! Parallel batch work on an explicit number of threads.
//!
//! Pools are built once per thread count and kept, so a batch call costs no thread start-up.
//! `0` means one thread per core (rayon's global pool). The Python layer reads the environment
//! variable and passes the count; nothing here looks at the environment.

use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

fn pool(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    if threads == 0 {
        return None;
    }
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(p) = pools.get(&threads) {
        return Some(p.clone());
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .ok()
        .map(Arc::new)?;
    pools.insert(threads, p.clone());
    Some(p)
}

/// `f` over every item, in order, on `threads` threads (0 = all cores).
pub fn map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if threads == 1 || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    let run = || items.par_iter().with_min_len(1).map(&f).collect();
    match pool(threads) {
        Some(p) => p.install(run),
        None => run(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order() {
        let v: Vec<u32> = (0..1000).collect();
        for threads in [0, 1, 3] {
            assert_eq!(
                super::map(&v, threads, |x| x * 2),
                v.iter().map(|x| x * 2).collect::<Vec<_>>()
            );
        }
    }
}
