//! Graph surgery and queries on the chain, diamond and double-diamond graphs.

use asyncjobs_core::{Job, JobHandle, JobRef, Scheduler, SchedulerError, Sequence};

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

#[test]
fn required_successors_and_predecessors_read_the_direct_edges() {
    let (s, d) = double_diamond();
    assert_eq!(s.required(&d[3]).unwrap(), refs(&[&d[1], &d[2]]));
    assert!(s.required(&d[0]).unwrap().is_empty());
    assert_eq!(s.successors(&d[0]).unwrap(), refs(&[&d[1], &d[2]]));
    assert_eq!(
        s.successors([&d[1], &d[3]]).unwrap(),
        refs(&[&d[3], &d[4], &d[5]])
    );
    assert_eq!(
        s.predecessors([&d[6], &d[3]]).unwrap(),
        refs(&[&d[1], &d[2], &d[4], &d[5]])
    );
    let other = Scheduler::new();
    assert!(matches!(
        other.required(&d[0]),
        Err(SchedulerError::NotInScheduler { .. })
    ));
}

#[test]
fn required_keeps_the_order_given_and_lists_outsiders_last() {
    let mut elsewhere = Scheduler::new();
    let outsider = elsewhere.add(Job::ok(async {}));
    let mut s = Scheduler::new();
    let a = job(&mut s, "a", &[]);
    let b = job(&mut s, "b", &[]);
    let c = s.add(
        Job::ok(async {})
            .label("c")
            .requires((&b, &outsider, &a, &b)),
    );
    assert_eq!(
        s.required(&c).unwrap(),
        [b.job_ref(), a.job_ref(), outsider.job_ref()]
    );
}

#[test]
fn remove_leaves_requirements_on_the_removed_job_until_sanitized() {
    let (mut s, d) = double_diamond();
    s.remove(&d[3]).unwrap();
    assert_eq!(labels(&s), ["d1", "d2", "d3", "d5", "d6", "d7"]);
    // d5 and d6 still require d4, which is no longer here, as in asynciojobs
    assert_eq!(s.required(&d[4]).unwrap(), refs(&[&d[3]]));
    let e = s.check().unwrap_err();
    assert!(
        matches!(e, SchedulerError::ForeignRequirement { .. }),
        "{e}"
    );
    assert!(matches!(
        s.remove(&d[3]),
        Err(SchedulerError::NotInScheduler { .. })
    ));
    assert!(!s.sanitize());
    assert!(s.required(&d[4]).unwrap().is_empty());
    assert!(s.run().unwrap());
    assert!(d.iter().enumerate().all(|(i, h)| h.is_done() == (i != 3)));
}

#[test]
fn keep_only_between_keeps_starts_that_lie_between_other_starts_and_the_ends() {
    // asynciojobs: keep_starts=false only skips adding the starts themselves
    let (mut s, d) = double_diamond();
    s.keep_only_between([&d[0], &d[3]], [&d[6]], false, true)
        .unwrap();
    assert_eq!(labels(&s), ["d2", "d3", "d4", "d5", "d6", "d7"]);

    let (mut s, d) = double_diamond();
    s.keep_only_between([&d[0]], [&d[3], &d[6]], true, false)
        .unwrap();
    assert_eq!(labels(&s), ["d1", "d2", "d3", "d4", "d5", "d6"]);
}

#[test]
fn a_typed_handle_comes_back_from_a_job_ref_of_the_right_type_only() {
    let mut s = Scheduler::new().label("typed");
    let a = s.add(Job::ok(async { 1.5 }).label("a"));
    let r: JobRef = a.job_ref();
    let e = s.handle::<u32>(&r).unwrap_err();
    assert_eq!(
        e.to_string(),
        "scheduler `typed`: the result of job `a` is not of type `u32`"
    );
    let again = s.handle::<f64>(&r).unwrap();
    assert!(s.run().unwrap());
    assert_eq!(again.result(), Some(&1.5));
}

#[test]
fn a_sequence_hands_back_typed_handles_for_every_item() {
    let mut s = Scheduler::new();
    let mut sub = Scheduler::new().label("sub");
    sub.add(Job::ok(async { 'x' }));
    let seq = s.add(
        Sequence::new()
            .then(Job::ok(async { 1u8 }).label("one"))
            .then(sub)
            .then(Job::ok(async { String::from("three") }).label("three")),
    );
    let (one, sub, three) = seq.handles().clone();
    assert_eq!(seq.jobs(), [one.job_ref(), sub.job_ref(), three.job_ref()]);
    assert_eq!(s.required(&three).unwrap(), [sub.job_ref()]);
    assert!(s.run().unwrap());
    assert_eq!(one.result(), Some(&1u8));
    assert_eq!(sub.result(), Some(&true));
    assert_eq!(three.result().map(String::as_str), Some("three"));
}

#[test]
fn a_collected_sequence_chains_its_items_in_order() {
    let mut s = Scheduler::new();
    let seq = s.add(
        (0..4u32)
            .map(|i| Job::ok(async move { i }).label(format!("j{i}")))
            .collect::<Sequence<_>>(),
    );
    let handles = seq.into_handles();
    for pair in handles.windows(2) {
        assert_eq!(s.required(&pair[1]).unwrap(), [pair[0].job_ref()]);
    }
    assert!(s.run().unwrap());
    assert_eq!(handles[3].result(), Some(&3));
}

#[test]
fn a_nested_scheduler_can_be_edited_through_its_handle_after_it_was_added() {
    let mut sub = Scheduler::new().label("sub");
    let first = sub.add(Job::ok(async { 1 }).label("first"));
    let mut top = Scheduler::new().label("top");
    let start = job(&mut top, "start", &[]);
    let h = top.add(sub.requires(&start));
    let second = h
        .edit(|sub| {
            sub.set_timeout(Some(std::time::Duration::from_secs(60)));
            sub.add(Job::ok(async { 2 }).label("second").requires(&first))
        })
        .unwrap();
    assert_eq!(h.read(|sub| sub.len()).unwrap(), 2);
    assert_eq!(
        listing(&top),
        "1 !    >   <Job `start`>\n\
         2 !    >   <Scheduler `sub`> - requires {1} - entries {3}\n\
         3 !    >   > <Job `first`>\n\
         4 !    >   > <Job `second`> - requires {3}\n\
         2 --end-- < <Scheduler `sub`> - exits {4}\n"
    );
    // a change inside makes the parent's check look again
    assert!(top.check().is_ok());
    h.edit(|sub| sub.add_requirement(&first, &second))
        .unwrap()
        .unwrap();
    assert!(matches!(top.check(), Err(SchedulerError::Cycle { .. })));
    h.edit(|sub| sub.remove_requirement(&first, &second))
        .unwrap()
        .unwrap();
    assert!(top.run().unwrap());
    assert_eq!(second.result(), Some(&2));
    // the same handle comes back from its ref
    let again = top.nested_scheduler(&h.job_ref()).unwrap();
    assert_eq!(again.read(|s| s.get_label()).unwrap(), "sub");
    assert!(matches!(
        top.nested_scheduler(&start),
        Err(SchedulerError::WrongResultType { .. })
    ));
}

#[tokio::test]
async fn a_nested_scheduler_cannot_be_edited_while_its_parent_runs_it() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut sub = Scheduler::new().label("busy");
    sub.add(Job::ok(async move { rx.await.ok() }));
    let mut top = Scheduler::new();
    let h = top.add(sub);
    let probe = h.clone();
    let poke = async move {
        // let the run start the nested scheduler, then try to reach it
        tokio::task::yield_now().await;
        let e = probe.edit(|s| s.len()).unwrap_err();
        tx.send(()).unwrap();
        e
    };
    let (ran, e) = tokio::join!(top.co_run(), poke);
    assert!(ran.unwrap());
    assert!(matches!(e, SchedulerError::NestedBusy { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "nested scheduler `busy` is in use (its parent is running it, or it is being edited)"
    );
    assert_eq!(h.read(|s| s.len()).unwrap(), 1, "it is back after the run");
}

#[test]
fn editing_a_nested_scheduler_from_inside_its_own_edit_is_an_error_not_a_deadlock() {
    let mut top = Scheduler::new();
    let h = top.add(Scheduler::new().label("inner"));
    let inner = h.clone();
    let nested = h.edit(|_| inner.read(|s| s.len())).unwrap();
    assert!(matches!(nested, Err(SchedulerError::NestedBusy { .. })));
}
