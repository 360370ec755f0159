//! Parallel batch work on an explicit number of threads.
//!
//! Pools are built once per thread count and kept, so a batch call costs no thread start-up.
//! A batch on `n` threads is the calling thread and a pool of `n - 1`; `0` means one thread
//! per core. The Python layer reads the environment variable and passes the count; nothing
//! here looks at the environment.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use crate::placement;

/// The pool of `threads` threads (None for 0, or if it cannot be built).
///
/// Pools are this process's own: a fork copies the pools but not their threads, so work sent
/// to a copy would wait forever (a child of a process that had run a batch hung on its first
/// one). A child finds the pools made by another process and makes its own; the copies are
/// leaked, as dropping one would signal threads that do not exist in the child.
fn pool(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    type Pools = (u32, HashMap<usize, Arc<rayon::ThreadPool>>);
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    if threads == 0 {
        return None;
    }
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let pid = std::process::id();
    if pools.0 != pid {
        pools.1.drain().for_each(std::mem::forget);
        pools.0 = pid;
    }
    if let Some(p) = pools.1.get(&threads) {
        return Some(p.clone());
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .ok()
        .map(Arc::new)?;
    pools.1.insert(threads, p.clone());
    Some(p)
}

/// The number of cores (what `threads = 0` means), read once.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f` run inside a pool with a thread per core, so that rayon's parallel iterators and joins
/// in it use that pool rather than rayon's global one (which a fork would leave without
/// threads, like any pool; see `pool`).
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match pool(cores()) {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// `f` over every item, in order, on `threads` threads (0 = all cores).
pub fn map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let runs = runs(items, threads, |run| run.iter().map(&f).collect::<Vec<R>>());
    runs.into_iter().flatten().collect()
}

/// How many threads a batch on `threads` (0 = all cores) runs on, the calling thread
/// included.
fn total_threads(threads: usize) -> usize {
    match threads {
        0 => cores(),
        n => n,
    }
}

/// Items per run: several runs per thread, so that threads finish close together (and, in a
/// pipeline, the output of the last run, built after the pool is done, is small).
fn run_size(items: usize, workers: usize) -> usize {
    items.div_ceil(workers * 8).max(1)
}

/// `work` over runs of consecutive items on `threads` threads (0 = all cores), one result per
/// run, in order: for work that is cheaper per run than per item (one output vector per run).
/// A panic in `work` is raised again here, on the calling thread.
pub fn runs<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    pipeline(items, threads, work, |fin| {
        let mut done = Vec::new();
        while let Some((first, r)) = fin.next() {
            done.push((first, r.unwrap_or_else(|p| std::panic::resume_unwind(p))));
        }
        done.sort_unstable_by_key(|d| d.0);
        done.into_iter().map(|d| d.1).collect()
    })
}

/// What one run of consecutive items came to: the index of its first item, and the work's
/// result, or the panic it raised.
pub type Done<R> = (usize, std::thread::Result<R>);

/// Finished runs, handed to the calling thread one at a time in the order they finish.
pub struct Finished<'a, R> {
    queue: Mutex<(VecDeque<Done<R>>, usize)>,
    ready: Condvar,
    runs: usize,
    /// A run the calling thread does itself, while none is waiting; None once none is left.
    own: &'a (dyn Fn() -> Option<Done<R>> + Sync),
}

impl<'a, R> Finished<'a, R> {
    fn new(runs: usize, own: &'a (dyn Fn() -> Option<Done<R>> + Sync)) -> Self {
        Finished {
            queue: Mutex::new((VecDeque::new(), 0)),
            ready: Condvar::new(),
            runs,
            own,
        }
    }

    fn push(&self, done: Done<R>) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.0.push_back(done);
        self.ready.notify_one();
    }

    /// The next finished run: one the pool has finished, else one the calling thread does
    /// now, else (every run taken) one the pool is still on, waited for. None once every run
    /// has been handed out.
    pub fn next(&self) -> Option<Done<R>> {
        let handed = |q: &mut (VecDeque<Done<R>>, usize), done| {
            q.1 += 1;
            Some(done)
        };
        {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(done) = q.0.pop_front() {
                return handed(&mut q, done);
            }
            if q.1 == self.runs {
                return None;
            }
        }
        if let Some(done) = (self.own)() {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            return handed(&mut q, done);
        }
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(done) = q.0.pop_front() {
                return handed(&mut q, done);
            }
            if q.1 == self.runs {
                return None;
            }
            q = self.ready.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// `work` over runs of consecutive items on `threads` threads (0 = all cores), while `consume`
/// runs on the calling thread and takes each run's result as it finishes.
///
/// This is for output that only the calling thread may build (Python objects, under the
/// GIL): building it for one run while the pool works on the next keeps that serial part off
/// the critical path, where collecting everything first would add it after the parallel part.
///
/// The calling thread is one of the `threads`: the pool has one thread fewer, and whenever no
/// finished run is waiting for `consume`, the calling thread does a run itself (inside
/// `Finished::next`, so a caller that releases the GIL around `next` releases it for the work
/// too). Every core then either encodes or builds output, rather than the pool's threads and
/// the output builder taking turns on the cores.
pub fn pipeline<T: Sync, R: Send, X>(
    items: &[T],
    threads: usize,
    work: impl Fn(&[T]) -> R + Sync,
    consume: impl FnOnce(&Finished<'_, R>) -> X,
) -> X {
    let total = total_threads(threads);
    if total == 1 || items.len() < 2 {
        let once = std::sync::atomic::AtomicBool::new(true);
        let own = || {
            once.swap(false, Ordering::Relaxed)
                .then(|| (0, catch_unwind(AssertUnwindSafe(|| work(items)))))
        };
        return consume(&Finished::new(1, &own));
    }
    let size = run_size(items.len(), total);
    let runs = items.len().div_ceil(size);
    let blocks = Blocks::new(runs, total);
    let caller = total - 1; // the pool's threads are 0..total - 1
    let own = || {
        let k = blocks.take(caller)?;
        Some(do_run(items, size, k, &work))
    };
    let fin = Finished::new(runs, &own);
    match pool(total - 1) {
        Some(p) => p.in_place_scope(|s| {
            let cpu = placement::caller_cpu(total - 1);
            spawn_runs(s, items, size, &blocks, &fin, &work, cpu);
            consume(&fin)
        }),
        // No pool: the calling thread takes every run.
        None => consume(&fin),
    }
}

/// Runs split into one contiguous block per thread. A thread takes the runs of its own block
/// from the front, then helps with the other blocks from their back.
///
/// So a batch given again goes to the same threads in the same way (up to what uneven work
/// moves, and that is taken from the ends of blocks), and each thread's piece cache already
/// holds the pieces of the texts it gets. With runs dealt out first come, first served, a
/// thread would meet the other thread's texts on the next call and merge their pieces again.
struct Blocks {
    /// Per block: the runs not yet taken, as `front | back << 32` (a batch has at most eight
    /// runs per thread, so both fit).
    left: Vec<AtomicU64>,
}

impl Blocks {
    fn new(runs: usize, threads: usize) -> Blocks {
        let bound = |b: usize| (runs * b / threads) as u64;
        Blocks {
            left: (0..threads)
                .map(|b| AtomicU64::new(bound(b) | (bound(b + 1) << 32)))
                .collect(),
        }
    }

    /// The next run for thread `me`: the front of its own block, else the back of another.
    fn take(&self, me: usize) -> Option<usize> {
        let n = self.left.len();
        (0..n).find_map(|i| {
            let own = i == 0;
            let left = &self.left[(me + i) % n];
            let mut cur = left.load(Ordering::Relaxed);
            loop {
                let (front, back) = (cur & 0xFFFF_FFFF, cur >> 32);
                if front >= back {
                    return None;
                }
                let (next, k) = if own {
                    ((front + 1) | (back << 32), front)
                } else {
                    (front | ((back - 1) << 32), back - 1)
                };
                match left.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
                    Ok(_) => return Some(k as usize),
                    Err(now) => cur = now,
                }
            }
        })
    }
}

fn spawn_runs<'s, T: Sync, R: Send>(
    s: &rayon::Scope<'s>,
    items: &'s [T],
    size: usize,
    blocks: &'s Blocks,
    fin: &'s Finished<'_, R>,
    work: &'s (impl Fn(&[T]) -> R + Sync),
    caller_cpu: Option<usize>,
) {
    s.spawn_broadcast(move |_, ctx| {
        placement::bind_worker(ctx.index(), caller_cpu);
        while let Some(k) = blocks.take(ctx.index()) {
            fin.push(do_run(items, size, k, work));
        }
    });
}

/// Run `k` of `items` (runs of `size`).
fn do_run<T, R>(items: &[T], size: usize, k: usize, work: &impl Fn(&[T]) -> R) -> Done<R> {
    let run = &items[k * size..((k + 1) * size).min(items.len())];
    (k * size, catch_unwind(AssertUnwindSafe(|| work(run))))
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

    #[test]
    fn runs_cover_every_item_in_order() {
        let v: Vec<u32> = (0..1000).collect();
        for threads in [0, 1, 3] {
            let runs = super::runs(&v, threads, |run| run.to_vec());
            assert!(runs.len() > 1 || threads == 1);
            assert_eq!(runs.concat(), v);
        }
    }

    #[test]
    fn pipeline_hands_back_every_run_once() {
        let v: Vec<u32> = (0..1000).collect();
        for threads in [0, 1, 3] {
            let mut seen = vec![0u32; v.len()];
            super::pipeline(
                &v,
                threads,
                |run| run.iter().map(|x| x * 2).collect::<Vec<_>>(),
                |fin| {
                    while let Some((first, out)) = fin.next() {
                        for (i, x) in out.unwrap().into_iter().enumerate() {
                            assert_eq!(x, v[first + i] * 2);
                            seen[first + i] += 1;
                        }
                    }
                },
            );
            assert!(seen.iter().all(|&n| n == 1), "threads={threads}");
        }
    }

    #[test]
    fn the_calling_thread_takes_runs_too() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        use std::time::{Duration, Instant};
        let caller = std::thread::current().id();
        let by_caller = AtomicUsize::new(0);
        let v: Vec<u32> = (0..64).collect();
        let start = Instant::now();
        let out = super::runs(&v, 2, |run| {
            if std::thread::current().id() == caller {
                by_caller.fetch_add(1, SeqCst);
            } else {
                // The pool's thread waits for the caller's first run (giving up 5 s in), so
                // that it cannot take every run before the caller asks for one.
                while by_caller.load(SeqCst) == 0 && start.elapsed() < Duration::from_secs(5) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            run.to_vec()
        });
        assert_eq!(out.concat(), v);
        assert!(by_caller.load(SeqCst) > 0);
    }

    #[test]
    fn pipeline_reports_a_panic_as_its_run_result() {
        let v: Vec<u32> = (0..100).collect();
        let panics = super::pipeline(
            &v,
            2,
            |run| assert!(!run.contains(&42), "bad item"),
            |fin| {
                let mut n = 0;
                while let Some((_, r)) = fin.next() {
                    n += usize::from(r.is_err());
                }
                n
            },
        );
        assert_eq!(panics, 1);
    }
}
