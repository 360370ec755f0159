//! Which CPU each pool thread runs on.
//!
//! A batch wakes its pool's threads while the calling thread goes on working. Linux often puts
//! a woken thread on the CPU of the thread that woke it, expecting the waker to sleep soon;
//! here it does not, so both share one CPU until the load balancer moves one, milliseconds
//! later. Batches of a few milliseconds then ran at about one thread's speed in a third to a
//! half of the passes once another program's threads had run in between (a two-thread
//! Llama-2 batch of 0.6 MB: 1.8 ms or 3.5-4 ms a pass, nothing in between).
//!
//! So when a batch that spans every CPU the process may use starts (the caller and one pool
//! thread per other CPU, as `num_threads=0` gives), each pool thread is bound to one of the
//! CPUs other than the caller's (the caller stays free to move). A batch on fewer threads
//! binds nothing: several processes with small pools would all bind to the same few CPUs,
//! where the scheduler spreads them. On systems other than Linux nothing is bound.

pub use imp::{bind_worker, caller_cpu};

#[cfg(target_os = "linux")]
mod imp {
    use std::cell::Cell;
    use std::sync::OnceLock;

    /// The CPUs this process may run on, read once by the first thread that starts a batch
    /// (never a bound pool thread, whose own set is a single CPU).
    fn allowed() -> &'static [usize] {
        static ALLOWED: OnceLock<Vec<usize>> = OnceLock::new();
        ALLOWED.get_or_init(own_cpus)
    }

    /// The CPUs the calling thread may run on (none if they cannot be read).
    fn own_cpus() -> Vec<usize> {
        // SAFETY: a zeroed cpu_set_t is a valid empty set, and the kernel writes at most the
        // size passed.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            let size = std::mem::size_of::<libc::cpu_set_t>();
            if libc::sched_getaffinity(0, size, &mut set) != 0 {
                return Vec::new();
            }
            (0..libc::CPU_SETSIZE as usize)
                .filter(|&c| libc::CPU_ISSET(c, &set))
                .collect()
        }
    }

    /// The CPU the calling thread runs on, when a batch with `pool_threads` pool threads
    /// beside it should bind them: when the caller and the pool are one thread per allowed
    /// CPU. Else None.
    pub fn caller_cpu(pool_threads: usize) -> Option<usize> {
        let cpus = allowed();
        if pool_threads + 1 != cpus.len() {
            return None;
        }
        // SAFETY: no arguments; -1 on failure.
        let cpu = unsafe { libc::sched_getcpu() };
        usize::try_from(cpu).ok().filter(|c| cpus.contains(c))
    }

    thread_local! {
        /// The CPU this thread is bound to, if any.
        static BOUND: Cell<Option<usize>> = const { Cell::new(None) };
    }

    /// Bind the calling pool thread, number `index` of its pool, to the `index`-th allowed
    /// CPU other than `caller` (the caller's CPU, from `caller_cpu`); with no caller CPU,
    /// let it run anywhere again. A thread already where it should be costs no system call.
    pub fn bind_worker(index: usize, caller: Option<usize>) {
        let cpus = allowed();
        let target = caller.and_then(|c| cpus.iter().copied().filter(|&x| x != c).nth(index));
        if BOUND.get() == target {
            return;
        }
        // SAFETY: as in `own_cpus`; CPU_SET is given CPUs below CPU_SETSIZE (they came from a
        // set of that size).
        let to: &[usize] = match &target {
            Some(t) => std::slice::from_ref(t),
            None => cpus,
        };
        let ok = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            for &c in to {
                libc::CPU_SET(c, &mut set);
            }
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
        };
        // On failure (the process's CPUs changed, say) the thread stays where it was allowed.
        if ok {
            BOUND.set(target);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::own_cpus;

        #[test]
        fn a_pool_thread_is_kept_off_the_callers_cpu_and_freed_again() {
            let all = super::allowed().to_vec();
            let Some(caller) = super::caller_cpu(all.len().saturating_sub(1)) else {
                assert!(all.len() < 2, "with {} CPUs a batch binds", all.len());
                return;
            };
            assert_eq!(super::caller_cpu(all.len()), None, "more threads than CPUs");
            if all.len() > 2 {
                assert_eq!(super::caller_cpu(1), None, "fewer threads than CPUs");
            }
            std::thread::spawn(move || {
                for index in 0..all.len() - 1 {
                    super::bind_worker(index, Some(caller));
                    let own = own_cpus();
                    assert_eq!(own.len(), 1);
                    assert_ne!(own[0], caller);
                    // SAFETY: no arguments.
                    assert_eq!(unsafe { libc::sched_getcpu() } as usize, own[0]);
                }
                super::bind_worker(0, None);
                assert_eq!(own_cpus(), all);
            })
            .join()
            .unwrap();
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    pub fn caller_cpu(_pool_threads: usize) -> Option<usize> {
        None
    }

    pub fn bind_worker(_index: usize, _caller: Option<usize>) {}
}
