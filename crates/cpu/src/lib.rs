//! Where CPU-heavy work runs: never on the async workers, which every session shares.
//!
//! A task that computes for long on an async worker stops every other task queued on that
//! worker; as many heavy commands as there are cores stop the whole server (IMAP, POP3 and SMTP
//! alike). So work that can take more than a few milliseconds — evaluating SEARCH, SORT and
//! THREAD over many messages, signing or hashing large bodies — is handed to this pool:
//!
//! - **Bounded**: at most `workers` jobs run at once (one core fewer than the machine has, at
//!   least one), so the async workers always keep a core for everything else.
//! - **Behind everything else**: the workers are threads of their own at a lower scheduling
//!   priority (nice 10), so the kernel gives the CPU to deliveries and logins first and heavy
//!   commands get what is left.
//! - **Fair**: jobs wait for a worker in arrival order (tokio's semaphore is FIFO), and callers
//!   cut long work into slices of a few milliseconds, so a session with a huge command waits
//!   its turn between slices instead of holding a worker for the whole command.
//! - **Budgeted**: each session has a [`Budget`] of CPU time; one that spends more than its
//!   share over a while waits before its next slice. The session that overspends is slowed,
//!   never the others.

use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum CpuError {
    /// The job panicked; the panic is contained and reported instead of ending the session.
    #[error("a computation failed unexpectedly")]
    Failed,
}

type Job = Box<dyn FnOnce() + Send>;

/// A pool of worker threads, entered through permits handed out in arrival order.
#[derive(Debug, Clone)]
pub struct CpuPool {
    permits: Arc<Semaphore>,
    workers: usize,
    jobs: Arc<Mutex<mpsc::Sender<Job>>>,
}

impl CpuPool {
    pub fn new(workers: usize) -> Self {
        let workers = workers.max(1);
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..workers {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("mailroom-cpu-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            // The pool is gone.
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing_free_warning(&e);
            }
        }
        CpuPool {
            permits: Arc::new(Semaphore::new(workers)),
            workers,
            jobs: Arc::new(Mutex::new(sender)),
        }
    }

    /// The pool every session of this process shares.
    pub fn shared() -> &'static CpuPool {
        static POOL: OnceLock<CpuPool> = OnceLock::new();
        POOL.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            CpuPool::new(cores.saturating_sub(1))
        })
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Runs `job` on a blocking thread once a worker is free (in arrival order), and returns
    /// its result with the CPU time it took.
    pub async fn run<T, F>(&self, job: F) -> Result<(T, Duration), CpuError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let _permit = self.permits.acquire().await.map_err(|_| CpuError::Failed)?;
        let (done, result) = tokio::sync::oneshot::channel();
        let wrapped: Job = Box::new(move || {
            let started = Instant::now();
            // A panic stays in the job: the worker thread lives on, the caller gets an error.
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            let _ = done.send(out.map(|out| (out, started.elapsed())));
        });
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(wrapped)
            .map_err(|_| CpuError::Failed)?;
        match result.await {
            Ok(Ok(out)) => Ok(out),
            _ => Err(CpuError::Failed),
        }
    }
}

/// Nice 10 for the calling thread (Linux schedules threads one by one): heavy work runs when
/// nothing more urgent wants the CPU.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only changes this thread's scheduling weight; gettid has no
    // preconditions. A failure (no permission) leaves the default priority, which is harmless.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
}

/// The pool is used from libraries without a logger of their own; a thread that could not be
/// started leaves the pool smaller, which the permits still match as long as one runs.
fn tracing_free_warning(e: &std::io::Error) {
    use std::io::Write;
    // Not eprintln!: it panics when stderr is closed.
    let _ = writeln!(
        std::io::stderr(),
        "mailroom-cpu: a worker thread could not be started: {e}"
    );
}

/// How much pool time one session may use: `burst` at once, then `share` of one worker.
#[derive(Debug, Clone, Copy)]
pub struct BudgetConfig {
    pub burst: Duration,
    /// The fraction of one worker a session keeps using without waiting (0 < share ≤ 1).
    pub share: f64,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            burst: Duration::from_secs(5),
            share: 0.5,
        }
    }
}

/// One session's account of pool time: a bucket of CPU time that refills at `share` per
/// second and is charged with what each job really took.
#[derive(Debug)]
pub struct Budget {
    config: BudgetConfig,
    /// CPU time the session may still use at once; negative after an expensive slice.
    balance: f64,
    updated: tokio::time::Instant,
    pool: CpuPool,
}

impl Budget {
    pub fn new(config: BudgetConfig) -> Self {
        Budget::with_pool(config, CpuPool::shared().clone())
    }

    pub fn with_pool(config: BudgetConfig, pool: CpuPool) -> Self {
        Budget {
            config,
            balance: config.burst.as_secs_f64(),
            updated: tokio::time::Instant::now(),
            pool,
        }
    }

    fn refill(&mut self) {
        let now = tokio::time::Instant::now();
        let gained = now.duration_since(self.updated).as_secs_f64() * self.config.share;
        self.balance = (self.balance + gained).min(self.config.burst.as_secs_f64());
        self.updated = now;
    }

    /// How long the session must wait before its next slice (zero within its budget).
    pub fn wait(&mut self) -> Duration {
        self.refill();
        if self.balance > 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.balance / self.config.share.max(1e-3))
        }
    }

    /// Runs one slice of work on the pool, after waiting out an overspent budget.
    pub async fn run<T, F>(&mut self, job: F) -> Result<T, CpuError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let wait = self.wait();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let (out, spent) = self.pool.run(job).await?;
        self.refill();
        self.balance -= spent.as_secs_f64();
        Ok(out)
    }

    /// Runs `work` — heavy work that happens elsewhere, such as a store read of thousands of
    /// messages' metadata on the store's own threads — as if it were a slice on the pool: after
    /// an overspent budget's wait, holding one of the pool's workers, and charged with the time
    /// it took. So a session's whole heavy command counts against the pool's bound, not only
    /// the part computed here. `work` must not use the pool itself.
    pub async fn gate<T>(
        &mut self,
        work: impl std::future::Future<Output = T>,
    ) -> Result<T, CpuError> {
        let wait = self.wait();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let permit = self
            .pool
            .permits
            .acquire()
            .await
            .map_err(|_| CpuError::Failed)?;
        let started = tokio::time::Instant::now();
        let out = work.await;
        drop(permit);
        self.charge(started.elapsed());
        Ok(out)
    }

    /// Charges work done outside the pool (measured by the caller).
    pub fn charge(&mut self, spent: Duration) {
        self.refill();
        self.balance -= spent.as_secs_f64();
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(BudgetConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_off_the_async_thread_and_return() {
        let pool = CpuPool::new(1);
        let here = std::thread::current().id();
        let (there, _) = pool.run(|| std::thread::current().id()).await.unwrap();
        assert_ne!(here, there);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn workers_run_behind_everything_else() {
        let pool = CpuPool::new(1);
        // SAFETY: getpriority/gettid only read the calling thread's scheduling state.
        let (nice, _) = pool
            .run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) })
            .await
            .unwrap();
        assert_eq!(nice, 10);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_not_a_crash() {
        let pool = CpuPool::new(1);
        let result: Result<((), Duration), CpuError> = pool.run(|| panic!("boom")).await;
        assert!(result.is_err());
        // The worker is free again.
        assert_eq!(pool.run(|| 7).await.unwrap().0, 7);
    }

    #[tokio::test]
    async fn at_most_workers_jobs_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let pool = CpuPool::new(2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut jobs = Vec::new();
        for _ in 0..8 {
            let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
            jobs.push(tokio::spawn(async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
                .unwrap();
            }));
        }
        for job in jobs {
            job.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_overspending_session_waits_and_only_it() {
        let config = BudgetConfig {
            burst: Duration::from_millis(100),
            share: 0.5,
        };
        let mut heavy = Budget::with_pool(config, CpuPool::new(1));
        let light = Budget::with_pool(config, CpuPool::new(1));
        heavy.charge(Duration::from_millis(300));
        // 200 ms over: at half a worker per second, 400 ms to wait.
        assert_eq!(heavy.wait(), Duration::from_millis(400));
        let mut light = light;
        assert_eq!(light.wait(), Duration::ZERO);
        let started = tokio::time::Instant::now();
        heavy.run(|| ()).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(400));
    }

    #[tokio::test(start_paused = true)]
    async fn gated_work_holds_a_worker_and_is_charged() {
        let pool = CpuPool::new(1);
        let config = BudgetConfig {
            burst: Duration::from_millis(100),
            share: 0.5,
        };
        let mut a = Budget::with_pool(config, pool.clone());
        // While a's gated work runs, the pool's only worker is taken.
        let held = a.gate(async {
            let other = tokio::time::timeout(Duration::from_millis(10), pool.run(|| ()));
            assert!(other.await.is_err(), "the worker should be taken");
            tokio::time::sleep(Duration::from_millis(300)).await;
        });
        held.await.unwrap();
        assert!(a.wait() > Duration::ZERO, "the gated time was charged");
    }
}
