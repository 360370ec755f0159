//! Parallel batch work on an explicit number of threads.
//!
//! A batch on `n` threads is the calling thread and a pool of `n - 1`; `0` means one thread
//! per core, and a count above `max_threads` is taken as `max_threads`. Pools are kept for the
//! few thread counts used last, so a repeated batch call costs no thread start-up, while the
//! threads a process holds stay bounded whatever counts it asks for (see `pool`). The Python
//! layer reads the environment variable and passes the count; nothing here looks at the
//! environment.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::caught_panic;
use crate::placement;

/// How many pools are kept: a process that alternates between a few thread counts (a count of
/// its own, and every core for loads) reuses them; one that cycles through more builds pools
/// again, at the cost of starting their threads, rather than keeping a pool per count.
const KEPT_POOLS: usize = 4;

/// How many threads a batch may run on, per CPU the process may use: more only adds threads
/// that take turns on the same CPUs (and a count such as 2**32 would try to allocate a stack
/// for each).
const THREADS_PER_CORE: usize = 4;

/// The thread pools of one process, most recently used first.
///
/// Pools are a process's own: a fork copies the registry but not its threads, so work sent to a
/// copied pool would wait forever, and the copied lock may be held by a thread that the child
/// does not have. A process therefore never uses a registry made by another one: it makes its
/// own, and the copy is leaked, as dropping its pools would signal threads that do not exist.
struct Registry {
    owner: Owner,
    pools: Mutex<Vec<Arc<rayon::ThreadPool>>>,
}

/// Which process a registry belongs to: its id, and how many forks had happened in this
/// memory when it was made (so that a child whose id once was its ancestor's is still told
/// apart).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Owner {
    pid: u32,
    forks: u64,
}

impl Owner {
    fn now() -> Owner {
        Owner {
            pid: std::process::id(),
            forks: forks::count(),
        }
    }
}

/// The calling process's registry: made without taking any lock, so that a child forked while
/// another thread held one never waits on it.
fn registry() -> &'static Registry {
    static REGISTRY: AtomicPtr<Registry> = AtomicPtr::new(std::ptr::null_mut());
    let me = Owner::now();
    let mut cur = REGISTRY.load(Ordering::Acquire);
    loop {
        // SAFETY: registries are leaked, never freed, once published.
        if let Some(r) = unsafe { cur.as_ref() } {
            if r.owner == me {
                return r;
            }
        }
        let new = Box::into_raw(Box::new(Registry {
            owner: me,
            pools: Mutex::new(Vec::new()),
        }));
        match REGISTRY.compare_exchange(cur, new, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: just published, and never freed.
            Ok(_) => return unsafe { &*new },
            Err(now) => {
                // SAFETY: `new` was never published.
                drop(unsafe { Box::from_raw(new) });
                cur = now;
            }
        }
    }
}

/// The pool of `threads` threads (None for 0, or if it cannot be built).
///
/// At most `KEPT_POOLS` pools are kept, so a process holds at most that many times
/// `max_threads` pool threads; a pool dropped from the registry ends its threads once the
/// batches still running on it are done.
fn pool(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    if threads == 0 {
        return None;
    }
    let mut pools = registry().pools.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = pools
        .iter()
        .position(|p| p.current_num_threads() == threads)
    {
        let p = pools.remove(i);
        pools.insert(0, p.clone());
        return Some(p);
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .start_handler(|_| caught_panic::on_pool_thread())
        .build()
        .ok()
        .map(Arc::new)?;
    pools.insert(0, p.clone());
    let keep = pools.len().min(KEPT_POOLS);
    let dropped = pools.split_off(keep);
    drop(pools);
    drop(dropped);
    Some(p)
}

/// Forks of this process's memory, counted in the child (Linux; elsewhere the process id alone
/// tells a child from its parent).
mod forks {
    #[cfg(target_os = "linux")]
    pub fn count() -> u64 {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        static FORKS: AtomicU64 = AtomicU64::new(0);
        static REGISTERED: AtomicBool = AtomicBool::new(false);
        extern "C" fn in_child() {
            FORKS.fetch_add(1, Ordering::SeqCst);
        }
        if !REGISTERED.swap(true, Ordering::SeqCst) {
            // SAFETY: registers a handler that only increments an atomic, which is safe in a
            // child after fork. A failure leaves the count at 0: the process id still tells
            // processes apart.
            unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        }
        FORKS.load(Ordering::SeqCst)
    }

    #[cfg(not(target_os = "linux"))]
    pub fn count() -> u64 {
        0
    }
}

/// The number of cores (what `threads = 0` means): the CPUs this process may use, read once.
/// (A plain atomic rather than a lock, which a fork could leave held.)
fn cores() -> usize {
    static CORES: AtomicUsize = AtomicUsize::new(0);
    match CORES.load(Ordering::Relaxed) {
        0 => {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get());
            CORES.store(n, Ordering::Relaxed);
            n
        }
        n => n,
    }
}

/// The most threads a batch runs on, the calling thread included: `THREADS_PER_CORE` per CPU
/// this process may use. A larger count is taken as this one.
pub fn max_threads() -> usize {
    cores() * THREADS_PER_CORE
}

/// `f` run inside a pool with a thread per core, so that rayon's parallel iterators and joins
/// in it use that pool rather than rayon's global one (which a fork would leave without
/// threads, like any pool; see `Registry`).
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

/// How many threads a batch on `threads` (0 = all cores, at most `max_threads`) runs on, the
/// calling thread included.
fn total_threads(threads: usize) -> usize {
    match threads {
        0 => cores(),
        n => n.min(max_threads()),
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
                .then(|| (0, caught_panic::catch(|| work(items))))
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
    (k * size, caught_panic::catch(|| work(run)))
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
    fn a_count_above_the_cap_runs_on_the_cap() {
        assert_eq!(super::total_threads(usize::MAX), super::max_threads());
        assert_eq!(super::total_threads(1 << 32), super::max_threads());
        assert!(super::max_threads() >= super::cores());
        let v: Vec<u32> = (0..1000).collect();
        let runs = super::runs(&v, usize::MAX, |run| run.to_vec());
        assert_eq!(runs.concat(), v);
    }

    #[test]
    fn only_a_few_pools_are_kept_whatever_the_counts() {
        for n in (1..=super::max_threads()).chain([1, 2, 3, 1, 2, 3]) {
            let p = super::pool(n).unwrap();
            assert_eq!(p.current_num_threads(), n);
            let kept = super::registry().pools.lock().unwrap().len();
            assert!(kept <= super::KEPT_POOLS, "{kept} pools kept");
        }
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
