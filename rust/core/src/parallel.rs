//! Running independent pieces of work on several cores, results kept in order.
//!
//! `threads` is the caller's choice: `None` uses rayon's global pool (all cores, or
//! `RAYON_NUM_THREADS`), `Some(1)` runs on the calling thread with no pool at all,
//! `Some(n)` uses a pool of `n` threads, made once and kept for later calls.

use std::sync::{Arc, Mutex};

use crate::kept::Kept;

use rayon::prelude::*;
use rayon::ThreadPool;

/// Pools made for an explicit thread count, with their count.
type Pools = Vec<(usize, Arc<ThreadPool>)>;
static POOLS: Mutex<Pools> = Mutex::new(Vec::new());

fn pool(threads: usize) -> Option<Arc<ThreadPool>> {
    let mut pools = POOLS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
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

/// Whether `test` holds for any of `items`, tested in parallel.
pub fn any<T: Sync>(threads: Option<usize>, items: &[T], test: impl Fn(&T) -> bool + Sync + Send) -> bool {
    if thread_count(threads) == 1 {
        return items.iter().any(test);
    }
    install(threads, || items.par_iter().any(test))
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

/// Drops the items of `items` (keeping its memory), in parallel.
pub fn drop_all<T: Send>(threads: Option<usize>, items: &mut Vec<T>) {
    if thread_count(threads) == 1 {
        items.clear();
        return;
    }
    install(threads, || items.par_drain(..).for_each(drop));
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

fn take_buffers(count: usize) -> Vec<Vec<u8>> {
    (0..count).map(|_| BUFFERS.take()).collect()
}

fn give_back(buffers: Vec<Vec<u8>>) {
    for buffer in buffers {
        BUFFERS.give(buffer);
    }
}

/// Runs `produce(t, buffer)` for tasks `0..tasks` on `threads` threads, a wave of a
/// few tasks per thread at a time, and hands each wave's buffers to `sink` in task
/// order on the calling thread. Buffers are reused from wave to wave and call to call.
pub fn write_ordered(
    threads: Option<usize>,
    tasks: usize,
    sink: &mut dyn FnMut(&[Vec<u8>]),
    produce: impl Fn(usize, &mut Vec<u8>) + Sync + Send,
) {
    let sequential = sequential(threads, tasks);
    let wave = if sequential { 1 } else { thread_count(threads) * 4 };
    let mut buffers = take_buffers(wave.min(tasks));
    for first in (0..tasks).step_by(wave) {
        let count = wave.min(tasks - first);
        let current = &mut buffers[..count];
        if sequential {
            for (j, buffer) in current.iter_mut().enumerate() {
                buffer.clear();
                produce(first + j, buffer);
            }
        } else {
            install(threads, || {
                current.par_iter_mut().enumerate().for_each(|(j, buffer)| {
                    buffer.clear();
                    produce(first + j, buffer);
                });
            });
        }
        sink(&buffers[..count]);
    }
    give_back(buffers);
}

/// Copies `pieces` one after another into the start of `dest`, which must be long
/// enough, on `threads` threads.
pub fn copy_into(threads: Option<usize>, dest: &mut [u8], pieces: &[Vec<u8>]) {
    let total: usize = pieces.iter().map(Vec::len).sum();
    if sequential(threads, pieces.len()) || total < (1 << 20) {
        let mut rest = dest;
        for piece in pieces {
            let (head, tail) = rest.split_at_mut(piece.len());
            head.copy_from_slice(piece);
            rest = tail;
        }
        return;
    }
    let mut targets = Vec::with_capacity(pieces.len());
    let mut rest = dest;
    for piece in pieces {
        let (head, tail) = rest.split_at_mut(piece.len());
        targets.push((head, piece));
        rest = tail;
    }
    install(threads, || targets.into_par_iter().for_each(|(head, piece)| head.copy_from_slice(piece)));
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
            write_ordered(
                threads,
                50,
                &mut |pieces| {
                    for p in pieces {
                        out.extend_from_slice(p);
                    }
                },
                |t, b| {
                    b.extend_from_slice(t.to_string().as_bytes());
                    b.push(b' ');
                },
            );
            let expected: String = (0..50).fold(String::new(), |mut s, t| {
                use std::fmt::Write as _;
                let _ = write!(s, "{t} ");
                s
            });
            assert_eq!(String::from_utf8(out).unwrap(), expected);
            let pieces: Vec<Vec<u8>> = (0..300u32).map(|i| vec![i as u8; 5000]).collect();
            let mut dest = vec![0u8; 300 * 5000 + 3];
            copy_into(threads, &mut dest, &pieces);
            assert_eq!(&dest[..300 * 5000], &pieces.concat()[..]);
        }
    }
}
