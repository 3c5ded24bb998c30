//! Running independent pieces of work on several cores, results kept in order.
//!
//! `threads` is the caller's choice: `None` uses rayon's global pool (all cores, or
//! `RAYON_NUM_THREADS`), `Some(1)` runs on the calling thread with no pool at all,
//! `Some(n)` uses a pool of `n` threads, made once and kept for later calls.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::kept::Kept;

use rayon::prelude::*;
use rayon::ThreadPool;

/// Pools made for an explicit thread count, with their count.
type Pools = Vec<(usize, Arc<ThreadPool>)>;
static POOLS: Mutex<Pools> = Mutex::new(Vec::new());

fn pool(threads: usize) -> Option<Arc<ThreadPool>> {
    let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, pool)) = pools.iter().find(|(n, _)| *n == threads) {
        return Some(pool.clone());
    }
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("lbfast-{i}"))
            .build()
            .ok()?,
    );
    pools.push((threads, pool.clone()));
    Some(pool)
}

/// Runs `work` in the pool for `threads` (see the module documentation).
fn install<R: Send>(threads: Option<usize>, work: impl FnOnce() -> R + Send) -> R {
    match threads.filter(|&n| n > 0).and_then(pool) {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// Runs `work` (which may use rayon's parallel iterators) in the pool for `threads`.
pub fn run_in<R: Send>(threads: Option<usize>, work: impl FnOnce() -> R + Send) -> R {
    install(threads, work)
}

fn sequential(threads: Option<usize>, tasks: usize) -> bool {
    tasks <= 1 || threads == Some(1)
}

/// `f(0), f(1), .. f(tasks - 1)`, in that order, computed in parallel.
pub fn map_ordered<R: Send>(
    threads: Option<usize>,
    tasks: usize,
    f: impl Fn(usize) -> R + Sync + Send,
) -> Vec<R> {
    if sequential(threads, tasks) {
        return (0..tasks).map(f).collect();
    }
    install(threads, || (0..tasks).into_par_iter().map(f).collect())
}

/// `f(start, chunk)` for consecutive chunks of `items` of `chunk` items, in order,
/// computed in parallel.
pub fn map_chunks_mut<T: Send, R: Send>(
    threads: Option<usize>,
    items: &mut [T],
    chunk: usize,
    f: impl Fn(usize, &mut [T]) -> R + Sync + Send,
) -> Vec<R> {
    let chunk = chunk.max(1);
    if sequential(threads, items.len().div_ceil(chunk)) {
        return items.chunks_mut(chunk).enumerate().map(|(k, c)| f(k * chunk, c)).collect();
    }
    install(threads, || items.par_chunks_mut(chunk).enumerate().map(|(k, c)| f(k * chunk, c)).collect())
}

/// How many threads `threads` means.
pub fn thread_count(threads: Option<usize>) -> usize {
    match threads.filter(|&n| n > 0) {
        Some(n) => n,
        None => rayon::current_num_threads(),
    }
}

/// Output buffers kept between calls, so that writing lands in memory that is
/// already mapped (fresh pages cost a fault each); at most this many bytes.
const POOL_BYTES: usize = 64 << 20;
static BUFFERS: Kept<u8> = Kept::new(0, POOL_BYTES);

fn give_back(buffers: Vec<Vec<u8>>) {
    for buffer in buffers {
        BUFFERS.give(buffer);
    }
}

/// Finished buffers a worker may hold while an earlier task is still being written
/// elsewhere, before it waits for its turn.
const MAX_PENDING: usize = 2;

/// Runs `produce(t, buffer)` for tasks `0..tasks` on `threads` threads and hands each
/// buffer to `sink` in task order, as soon as every earlier one has been handed over.
/// Workers take tasks in order from a shared counter and pass each buffer on
/// themselves (under a lock), so there is no barrier: a worker waits only when it
/// holds `MAX_PENDING` buffers that are not yet due. Buffers are reused from task to
/// task and from call to call.
pub fn write_ordered(
    threads: Option<usize>,
    tasks: usize,
    sink: &mut (dyn FnMut(&[u8]) + Send),
    produce: impl Fn(usize, &mut Vec<u8>) + Sync + Send,
) {
    if sequential(threads, tasks) {
        let mut buffer = BUFFERS.take();
        for t in 0..tasks {
            buffer.clear();
            produce(t, &mut buffer);
            sink(&buffer);
        }
        BUFFERS.give(buffer);
        return;
    }
    let workers = thread_count(threads).min(tasks);
    let order = Order {
        next_task: AtomicUsize::new(0),
        turn: Mutex::new(Turn { next: 0, failed: false, sink }),
        due: Condvar::new(),
    };
    install(threads, || {
        rayon::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|_| order.work(tasks, &produce));
            }
        });
    });
}

/// The state shared by the workers of [`write_ordered`].
struct Order<'s> {
    next_task: AtomicUsize,
    turn: Mutex<Turn<'s>>,
    /// Signalled whenever `turn.next` moves on (or a worker failed).
    due: Condvar,
}

struct Turn<'s> {
    /// The task whose buffer is to be handed to the sink next.
    next: usize,
    /// A worker panicked: the others stop instead of waiting for its tasks.
    failed: bool,
    sink: &'s mut (dyn FnMut(&[u8]) + Send),
}

/// Marks the order failed when a worker unwinds, so that no one waits for it.
struct FailOnUnwind<'a, 's>(&'a Order<'s>);

impl Drop for FailOnUnwind<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.lock().failed = true;
            self.0.due.notify_all();
        }
    }
}

impl<'s> Order<'s> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Turn<'s>> {
        self.turn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn work(&self, tasks: usize, produce: &(impl Fn(usize, &mut Vec<u8>) + Sync)) {
        let _fail = FailOnUnwind(self);
        let mut pending: VecDeque<(usize, Vec<u8>)> = VecDeque::with_capacity(MAX_PENDING);
        let mut spare: Vec<Vec<u8>> = Vec::new();
        loop {
            let full = pending.len() >= MAX_PENDING;
            if !self.hand_over(&mut pending, &mut spare, full) {
                break;
            }
            if pending.len() >= MAX_PENDING {
                continue;
            }
            let t = self.next_task.fetch_add(1, Ordering::Relaxed);
            if t >= tasks {
                break;
            }
            let mut buffer = spare.pop().unwrap_or_else(|| BUFFERS.take());
            buffer.clear();
            produce(t, &mut buffer);
            pending.push_back((t, buffer));
        }
        while !pending.is_empty() && self.hand_over(&mut pending, &mut spare, true) {}
        give_back(pending.into_iter().map(|(_, b)| b).chain(spare).collect());
    }

    /// Hands the pending buffers that are due to the sink, in order; with `wait`, first
    /// waits until the oldest is due. False when another worker failed.
    fn hand_over(
        &self,
        pending: &mut VecDeque<(usize, Vec<u8>)>,
        spare: &mut Vec<Vec<u8>>,
        wait: bool,
    ) -> bool {
        let Some(&(first, _)) = pending.front() else { return true };
        let mut turn = self.lock();
        if wait {
            while turn.next != first && !turn.failed {
                turn = self.due.wait(turn).unwrap_or_else(PoisonError::into_inner);
            }
        }
        if turn.failed {
            return false;
        }
        let mut moved = false;
        while pending.front().is_some_and(|(t, _)| *t == turn.next) {
            let Some((_, buffer)) = pending.pop_front() else { break };
            (turn.sink)(&buffer);
            turn.next += 1;
            spare.push(buffer);
            moved = true;
        }
        drop(turn);
        if moved {
            self.due.notify_all();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_their_order_whatever_the_thread_count() {
        for threads in [None, Some(1), Some(2), Some(5)] {
            assert_eq!(map_ordered(threads, 100, |i| i * 2), (0..100).map(|i| i * 2).collect::<Vec<_>>());
            let mut items: Vec<usize> = (0..1000).collect();
            let starts = map_chunks_mut(threads, &mut items, 64, |start, c| {
                for v in c.iter_mut() {
                    *v += 1;
                }
                start
            });
            assert_eq!(starts, (0..1000).step_by(64).collect::<Vec<_>>());
            assert_eq!(items, (1..1001).collect::<Vec<_>>());
            let mut out = Vec::new();
            write_ordered(threads, 50, &mut |piece| out.extend_from_slice(piece), |t, b| {
                b.extend_from_slice(t.to_string().as_bytes());
                b.push(b' ');
            });
            let expected: String = (0..50).fold(String::new(), |mut s, t| {
                use std::fmt::Write as _;
                let _ = write!(s, "{t} ");
                s
            });
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }

    #[test]
    fn pieces_come_in_order_however_unequal_the_tasks() {
        for threads in [Some(2), Some(3), Some(8)] {
            let mut seen = Vec::new();
            write_ordered(
                threads,
                200,
                &mut |piece| seen.push(u32::from_le_bytes(piece[..4].try_into().unwrap())),
                |t, b| {
                    // Early tasks are slow, so later ones finish first and wait.
                    if t % 17 == 0 {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    b.extend_from_slice(&(t as u32).to_le_bytes());
                },
            );
            assert_eq!(seen, (0..200).collect::<Vec<u32>>());
        }
    }

    #[test]
    fn a_panicking_task_fails_the_call_instead_of_leaving_the_others_waiting() {
        for threads in [Some(1), Some(2), Some(4)] {
            let result = std::panic::catch_unwind(|| {
                write_ordered(threads, 100, &mut |_| {}, |t, b| {
                    assert!(t != 3, "task 3 fails");
                    b.push(0);
                });
            });
            assert!(result.is_err());
        }
    }
}
