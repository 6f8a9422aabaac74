//! Graph surgery and queries on the chain, diamond and double-diamond graphs.

use asyncjobs_core::{Job, JobHandle, JobRef, Scheduler, SchedulerError};

fn job(s: &mut Scheduler, label: &str, reqs: &[&JobHandle<()>]) -> JobHandle<()> {
    s.add(Job::ok(async {}).label(label).requires(reqs.to_vec()))
}

fn refs(hs: &[&JobHandle<()>]) -> Vec<JobRef> {
    hs.iter().map(|h| h.job_ref()).collect()
}

/// d1 -> (d2, d3) -> d4 -> (d5, d6) -> d7
fn double_diamond() -> (Scheduler, Vec<JobHandle<()>>) {
    let mut s = Scheduler::new();
    let d1 = job(&mut s, "d1", &[]);
    let d2 = job(&mut s, "d2", &[&d1]);
    let d3 = job(&mut s, "d3", &[&d1]);
    let d4 = job(&mut s, "d4", &[&d2, &d3]);
    let d5 = job(&mut s, "d5", &[&d4]);
    let d6 = job(&mut s, "d6", &[&d4]);
    let d7 = job(&mut s, "d7", &[&d5, &d6]);
    (s, vec![d1, d2, d3, d4, d5, d6, d7])
}

fn labels(s: &Scheduler) -> Vec<String> {
    s.iterate_jobs(false).into_iter().map(|e| e.label).collect()
}

fn listing(s: &Scheduler) -> String {
    let o = asyncjobs_core::ListOptions {
        symbols: asyncjobs_core::Symbols::Ascii,
        ..Default::default()
    };
    s.listing(&o).unwrap()
}

#[test]
fn entry_and_exit_jobs_of_a_diamond_exclude_forever_exits_by_default() {
    let mut s = Scheduler::new();
    let d1 = job(&mut s, "d1", &[]);
    let d2 = job(&mut s, "d2", &[&d1]);
    let d3 = job(&mut s, "d3", &[&d1]);
    let d4 = job(&mut s, "d4", &[&d2, &d3]);
    let m = s.add(Job::ok(async {}).label("monitor").forever(true));
    assert_eq!(s.entry_jobs(), vec![d1.job_ref(), m.job_ref()]);
    assert_eq!(s.exit_jobs(true), vec![d4.job_ref()]);
    assert_eq!(s.exit_jobs(false), vec![d4.job_ref(), m.job_ref()]);
}

#[test]
fn transitive_successors_and_predecessors_of_a_double_diamond() {
    let (s, d) = double_diamond();
    assert_eq!(
        s.successors_downstream(&d[3]).unwrap(),
        refs(&[&d[4], &d[5], &d[6]])
    );
    assert_eq!(
        s.successors_downstream(&d[1]).unwrap(),
        refs(&[&d[3], &d[4], &d[5], &d[6]])
    );
    assert_eq!(
        s.predecessors_upstream(&d[3]).unwrap(),
        refs(&[&d[0], &d[1], &d[2]])
    );
    assert_eq!(
        s.predecessors_upstream((&d[4], &d[2])).unwrap(),
        refs(&[&d[0], &d[1], &d[2], &d[3]])
    );
    assert!(s.successors_downstream(&d[6]).unwrap().is_empty());
}

#[test]
fn bypass_and_remove_gives_dependents_the_removed_jobs_requirements() {
    let (mut s, d) = double_diamond();
    s.bypass_and_remove(&d[3]).unwrap();
    assert_eq!(labels(&s), ["d1", "d2", "d3", "d5", "d6", "d7"]);
    assert_eq!(
        s.predecessors_upstream(&d[4]).unwrap(),
        refs(&[&d[0], &d[1], &d[2]])
    );
    assert!(s.sanitize(), "nothing dangling is left");
    assert!(s.check().is_ok());
    // handles of remaining jobs stay valid; the removed one is no longer here
    assert!(s.add_requirement(&d[6], &d[0]).is_ok());
    assert!(matches!(
        s.bypass_and_remove(&d[3]),
        Err(SchedulerError::NotInScheduler { .. })
    ));
    assert!(s.run().unwrap());
    assert!(d.iter().enumerate().all(|(i, h)| h.is_done() == (i != 3)));
}

#[test]
fn bypass_and_remove_on_a_chain_keeps_it_a_chain() {
    let mut s = Scheduler::new();
    let a = job(&mut s, "a", &[]);
    let b = job(&mut s, "b", &[&a]);
    let c = job(&mut s, "c", &[&b]);
    s.bypass_and_remove(&b).unwrap();
    assert_eq!(
        listing(&s),
        "1 !    >   <Job `a`>\n2 !    >   <Job `c`> - requires {1}\n"
    );
    assert_eq!(s.predecessors_upstream(&c).unwrap(), vec![a.job_ref()]);
}

#[test]
fn keep_only_drops_edges_to_removed_jobs_without_relinking() {
    let (mut s, d) = double_diamond();
    s.keep_only([&d[0], &d[1], &d[4], &d[6]]).unwrap();
    assert_eq!(
        listing(&s),
        "1 !    >   <Job `d1`>\n\
         2 !    >   <Job `d2`> - requires {1}\n\
         3 !    >   <Job `d5`>\n\
         4 !    >   <Job `d7`> - requires {3}\n"
    );
}

#[test]
fn keep_only_between_intersects_downstream_and_upstream() {
    let (mut s, d) = double_diamond();
    s.keep_only_between([&d[1]], [&d[5]], true, true).unwrap();
    assert_eq!(labels(&s), ["d2", "d4", "d6"]);

    let (mut s, d) = double_diamond();
    s.keep_only_between([&d[1]], [&d[5]], false, false).unwrap();
    assert_eq!(labels(&s), ["d4"]);

    let (mut s, d) = double_diamond();
    s.keep_only_between([&d[3]], Vec::<&JobHandle<()>>::new(), true, true)
        .unwrap();
    assert_eq!(labels(&s), ["d4", "d5", "d6", "d7"]);

    let (mut s, d) = double_diamond();
    s.keep_only_between(Vec::<&JobHandle<()>>::new(), [&d[3]], true, false)
        .unwrap();
    assert_eq!(labels(&s), ["d1", "d2", "d3"]);
}

#[test]
fn iterate_jobs_on_a_diamond_of_diamonds() {
    fn diamond(label: &str) -> Scheduler {
        let mut s = Scheduler::new().label(label);
        let a = job(&mut s, "a", &[]);
        let b = job(&mut s, "b", &[&a]);
        let c = job(&mut s, "c", &[&a]);
        job(&mut s, "d", &[&b, &c]);
        s
    }
    let mut top = Scheduler::new().label("top");
    let start = job(&mut top, "start", &[]);
    let left = top.add(diamond("left").requires(&start));
    let right = top.add(diamond("right").requires(&start));
    top.add(Job::ok(async {}).label("end").requires((&left, &right)));
    let leaves = top.iterate_jobs(false);
    assert_eq!(leaves.len(), 10);
    assert!(leaves.iter().all(|e| !e.is_scheduler));
    let all = top.iterate_jobs(true);
    assert_eq!(all.len(), 13);
    let scheds: Vec<&str> = all
        .iter()
        .filter(|e| e.is_scheduler)
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(scheds, ["top", "left", "right"]);
    assert_eq!(all.iter().map(|e| e.depth).max(), Some(1));
}

#[test]
fn dry_run_lists_waves_after_checks_and_runs_nothing() {
    let (s, d) = double_diamond();
    let text = s.dry_run().unwrap();
    assert_eq!(
        text,
        "dry run of `Scheduler[7 jobs]`: 7 jobs, checks passed\n  wave 1:\n    1 <Job `d1`> critical\n  wave 2:\n    2 <Job `d2`> critical\n    3 <Job `d3`> critical\n  wave 3:\n    4 <Job `d4`> critical\n  wave 4:\n    5 <Job `d5`> critical\n    6 <Job `d6`> critical\n  wave 5:\n    7 <Job `d7`> critical\n"
    );
    assert!(d.iter().all(|h| h.is_idle()));
    let mut cyclic = Scheduler::new();
    let a = job(&mut cyclic, "a", &[]);
    let b = job(&mut cyclic, "b", &[&a]);
    cyclic.add_requirement(&a, &b).unwrap();
    assert!(matches!(
        cyclic.dry_run(),
        Err(SchedulerError::Cycle { .. })
    ));
}

#[test]
fn jobs_of_finds_jobs_of_a_kind_in_nested_schedulers_too() {
    struct Probe(u8);
    #[asyncjobs_core::async_trait]
    impl asyncjobs_core::AbstractJob for Probe {
        type Output = ();
        async fn co_run(&self) -> Result<(), asyncjobs_core::JobError> {
            Ok(())
        }
    }
    let mut inner = Scheduler::new();
    inner.add(Probe(2));
    inner.add(Job::ok(async {}));
    let mut top = Scheduler::new();
    top.add(Probe(1));
    top.add(inner);
    top.add(Probe(3));
    let found: Vec<u8> = top.jobs_of::<Probe>().iter().map(|p| p.0).collect();
    assert_eq!(found, [1, 2, 3]);
}
