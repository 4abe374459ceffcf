//! The orchestrator panel's chat and task modes through the service, on the tiny test model:
//! answers written by the server and followed as they grow, Stop, one answer per conversation
//! at a time, history cut to fit the prompt limit, conversations that are their owner's only,
//! and goals that become runs in their conversation.

mod common;

use std::time::{Duration, Instant};

use common::app::Harness;
use switchyard_auth::{Role, users};
use switchyard_protocol::ChatMode;
use switchyard_protocol::api::runs::PlanningStage;
use switchyard_protocol::conversation::{AnswerProgress, AnswerStatus, task_planning_id};
use switchyard_service::chat::ChatSend;
use switchyard_service::runs::steer::Verdict;
use switchyard_service::{Channel, Client, Principal};

fn operator(h: &Harness) -> Principal {
    Principal::local_operator(h.db.clone(), Client::default(), "test".into())
}

fn say(conversation: Option<&str>, text: &str) -> ChatSend {
    ChatSend {
        conversation: conversation.map(str::to_owned),
        text: text.to_owned(),
        model: None,
    }
}

/// Every state of answer `seq` a follower saw, until the last.
async fn followed(
    h: &Harness,
    who: &Principal,
    conversation: &str,
    seq: u32,
) -> Vec<AnswerProgress> {
    let mut progress = h.service.follow_answer(who, conversation, seq).unwrap();
    let mut seen = Vec::new();
    while tokio::time::timeout(Duration::from_secs(60), progress.changed())
        .await
        .expect("the answer ends within 60 s")
        .is_ok()
    {
        let latest = progress.borrow_and_update().clone();
        let last = latest.status != AnswerStatus::Generating;
        seen.push(latest);
        if last {
            break;
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_written_by_the_server_followed_as_they_grow_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |f| f.inference_max_tokens = Some(64)).await;
    let me = operator(&h);
    let started = h
        .service
        .send_chat(&me, say(None, "Hello, who are you?"))
        .await
        .unwrap();
    assert_eq!(started.seq, 2, "the person's message is 1, the answer 2");
    let seen = followed(&h, &me, &started.conversation, 2).await;
    let last = seen.last().unwrap();
    assert_eq!(last.status, AnswerStatus::Done, "{last:?}");
    // The text grew under the follower's eyes: several states, each a prefix of the next.
    let writing: Vec<&AnswerProgress> = seen
        .iter()
        .filter(|p| p.status == AnswerStatus::Generating && !p.content.is_empty())
        .collect();
    assert!(writing.len() >= 2, "{} states", seen.len());
    assert!(
        seen.windows(2)
            .all(|w| w[1].content.starts_with(&w[0].content))
    );
    let figures = last.figures.as_ref().unwrap();
    assert!(figures.completion_tokens > 0 && figures.prompt_tokens > 0);
    assert_eq!(figures.dropped_turns, 0);

    // Kept on the server: the list and the conversation say the same.
    let listed = h.service.conversations(&me).await.unwrap();
    assert_eq!(listed[0].id, started.conversation);
    assert_eq!(listed[0].title, "Hello, who are you?");
    let kept = h
        .service
        .conversation(&me, &started.conversation)
        .await
        .unwrap();
    assert_eq!(kept.messages.len(), 2);
    assert_eq!(kept.messages[0].role, "user");
    assert_eq!(kept.messages[0].content, "Hello, who are you?");
    assert_eq!(kept.messages[1].role, "assistant");
    assert_eq!(kept.messages[1].content, last.content);
    assert_eq!(kept.messages[1].status, AnswerStatus::Done);
    assert_eq!(kept.messages[1].model.as_deref(), Some("tiny"));
    assert_eq!(kept.messages[1].figures.as_ref(), Some(figures));

    // Continued: the next turn is 3 and 4, and its prompt holds the history.
    let next = h
        .service
        .send_chat(
            &me,
            say(Some(&started.conversation), "And what can you do?"),
        )
        .await
        .unwrap();
    assert_eq!(next.seq, 4);
    let again = followed(&h, &me, &next.conversation, 4).await;
    let again = again.last().unwrap().figures.clone().unwrap();
    assert!(again.prompt_tokens > figures.prompt_tokens);

    // Renamed, then deleted: gone from the list, and reading it is "not found".
    h.service
        .rename_conversation(&me, &started.conversation, "First talk")
        .await
        .unwrap();
    assert_eq!(
        h.service.conversations(&me).await.unwrap()[0].title,
        "First talk"
    );
    let bad = h
        .service
        .rename_conversation(&me, &started.conversation, "  ")
        .await
        .unwrap_err();
    assert!(bad.message.contains("title"), "{}", bad.message);
    h.service
        .delete_conversation(&me, &started.conversation)
        .await
        .unwrap();
    assert!(h.service.conversations(&me).await.unwrap().is_empty());
    let gone = h
        .service
        .conversation(&me, &started.conversation)
        .await
        .unwrap_err();
    assert_eq!(gone.kind.status(), 404);
    // A blank message is refused, naming what is wrong, and records nothing.
    let blank = h
        .service
        .send_chat(&me, say(None, "   "))
        .await
        .unwrap_err();
    assert_eq!(blank.kind.status(), 400);
    assert!(blank.message.contains("message"), "{}", blank.message);
    assert!(h.service.conversations(&me).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_an_answer_on_the_server_and_one_answer_is_written_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |f| f.inference_max_tokens = Some(2_000)).await;
    let me = operator(&h);
    let started = h
        .service
        .send_chat(&me, say(None, "Write a very long story"))
        .await
        .unwrap();
    let mut progress = h
        .service
        .follow_answer(&me, &started.conversation, started.seq)
        .unwrap();
    // Once text is coming: a second message to the same conversation waits its turn.
    loop {
        progress.changed().await.unwrap();
        if !progress.borrow_and_update().content.is_empty() {
            break;
        }
    }
    let busy = h
        .service
        .send_chat(&me, say(Some(&started.conversation), "and another"))
        .await
        .unwrap_err();
    assert_eq!(busy.kind.status(), 409, "{}", busy.message);
    let asked = Instant::now();
    h.service
        .stop_answer(&me, &started.conversation, started.seq)
        .await
        .unwrap();
    let last = loop {
        if progress.changed().await.is_err() {
            break progress.borrow().clone();
        }
        let latest = progress.borrow_and_update().clone();
        if latest.status != AnswerStatus::Generating {
            break latest;
        }
    };
    let took = asked.elapsed();
    assert_eq!(last.status, AnswerStatus::Stopped);
    println!("stopped {took:?} after Stop");
    // Its figures as measured up to Stop.
    let figures = last
        .figures
        .as_ref()
        .expect("a stopped answer has its figures");
    assert!(
        figures.completion_tokens > 0 && figures.prompt_tokens > 0,
        "{figures:?}"
    );
    assert!(!last.content.is_empty(), "the text so far is kept");
    let kept = h
        .service
        .conversation(&me, &started.conversation)
        .await
        .unwrap();
    assert_eq!(kept.messages[1].status, AnswerStatus::Stopped);
    assert_eq!(kept.messages[1].content, last.content);
    // Stopping what is not being written is refused with the reason.
    let again = h
        .service
        .stop_answer(&me, &started.conversation, started.seq)
        .await
        .unwrap_err();
    assert_eq!(again.kind.status(), 409, "{}", again.message);
    // Now the conversation takes a new message.
    let next = h
        .service
        .send_chat(&me, say(Some(&started.conversation), "shorter, please"))
        .await
        .unwrap();
    let mut progress = h
        .service
        .follow_answer(&me, &next.conversation, next.seq)
        .unwrap();
    h.service
        .stop_answer(&me, &next.conversation, next.seq)
        .await
        .unwrap();
    // Stopped before its first piece: ended as stopped all the same.
    while progress.changed().await.is_ok() {}
    assert_eq!(progress.borrow().status, AnswerStatus::Stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oldest_turns_are_left_out_when_the_history_outgrows_the_prompt_limit() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |f| {
        f.inference_max_tokens = Some(8);
        f.inference_max_prompt_tokens = Some(400);
    })
    .await;
    let me = operator(&h);
    let long = "the quick brown fox jumps over the lazy dog ".repeat(6);
    let mut conversation = None;
    let mut dropped = Vec::new();
    for turn in 0..6 {
        let started = h
            .service
            .send_chat(
                &me,
                say(conversation.as_deref(), &format!("{turn}: {long}")),
            )
            .await
            .unwrap();
        let seen = followed(&h, &me, &started.conversation, started.seq).await;
        let figures = seen
            .last()
            .unwrap()
            .figures
            .clone()
            .unwrap_or_else(|| panic!("turn {turn} did not finish: {:?}", seen.last()));
        assert!(figures.prompt_tokens <= 400, "{figures:?}");
        dropped.push(figures.dropped_turns);
        conversation = Some(started.conversation);
    }
    assert_eq!(dropped[0], 0);
    assert!(dropped.last().unwrap() > &0, "{dropped:?}");
    assert!(dropped.windows(2).all(|w| w[0] <= w[1]), "{dropped:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_is_its_owner_s_only() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |f| f.inference_max_tokens = Some(4)).await;
    let ann = users::create(
        &h.db,
        "ann@example.com",
        "a long enough password",
        Role::Operator,
    )
    .await
    .unwrap();
    let bob = users::create(
        &h.db,
        "bob@example.com",
        "a long enough password",
        Role::Admin,
    )
    .await
    .unwrap();
    let as_user = |id: String| {
        let access = h.service.access().clone();
        async move {
            access
                .user(&id, Client::default(), "test".into(), Channel::Pages)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let ann = as_user(ann.id).await;
    let bob = as_user(bob.id).await;
    let started = h.service.send_chat(&ann, say(None, "mine")).await.unwrap();
    followed(&h, &ann, &started.conversation, started.seq).await;
    // Not even an admin reads, continues, renames, deletes, follows or stops it.
    assert!(h.service.conversations(&bob).await.unwrap().is_empty());
    let id = started.conversation.as_str();
    assert_eq!(
        h.service
            .conversation(&bob, id)
            .await
            .unwrap_err()
            .kind
            .status(),
        404
    );
    let refused = h
        .service
        .send_chat(&bob, say(Some(id), "theirs"))
        .await
        .unwrap_err();
    assert_eq!(refused.kind.status(), 404);
    assert_eq!(
        h.service
            .rename_conversation(&bob, id, "x")
            .await
            .unwrap_err()
            .kind
            .status(),
        404
    );
    assert_eq!(
        h.service
            .delete_conversation(&bob, id)
            .await
            .unwrap_err()
            .kind
            .status(),
        404
    );
    assert_eq!(
        h.service
            .stop_answer(&bob, id, started.seq)
            .await
            .unwrap_err()
            .kind
            .status(),
        404
    );
    assert!(h.service.follow_answer(&bob, id, started.seq).is_err());
    assert_eq!(
        h.service
            .conversation(&ann, id)
            .await
            .unwrap()
            .messages
            .len(),
        2
    );
}

/// The tiny model, its planner limited to plans of one `approval` step: every goal becomes a
/// run that waits for a person.
async fn planning_one_approval(dir: &std::path::Path) -> Harness {
    Harness::with_model(dir, |f| {
        f.planner_tools = Some(vec!["approval".into()]);
        f.planner_max_steps = Some(1);
    })
    .await
}

/// Waits until run `id`'s detail satisfies `done` (60 s at most).
async fn run_until(
    h: &Harness,
    who: &Principal,
    id: &str,
    done: impl Fn(&switchyard_protocol::RunDetail) -> bool,
) -> switchyard_protocol::RunDetail {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let detail = h.service.run_detail(who, id).await.unwrap();
        if done(&detail) {
            return detail;
        }
        assert!(
            Instant::now() < deadline,
            "run {id} stayed {}",
            detail.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goal_in_task_mode_is_planned_as_the_tab_watches_and_becomes_a_run_of_the_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let h = planning_one_approval(dir.path()).await;
    let me = operator(&h);
    let started = h
        .service
        .send_task(
            &me,
            say(None, "Publish the release notes once someone agrees"),
        )
        .await
        .unwrap();
    let (id, seq) = (started.conversation.clone(), started.seq);
    // The planning is followed under the answer's planning id, and ends planned.
    let mut planning = h
        .service
        .follow_planning(&me, &task_planning_id(&id, seq))
        .unwrap();
    let planned = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            planning.changed().await.unwrap();
            let stage = planning.borrow_and_update().as_ref().map(|p| p.stage);
            if let Some(stage @ (PlanningStage::Planned | PlanningStage::Failed)) = stage {
                return stage;
            }
        }
    })
    .await
    .expect("planned within 60 s");
    assert_eq!(planned, PlanningStage::Planned);
    let seen = followed(&h, &me, &id, seq).await;
    let last = seen.last().unwrap();
    assert_eq!(last.status, AnswerStatus::Done, "{last:?}");

    // The conversation keeps the goal and the run it became.
    let conversation = h.service.conversation(&me, &id).await.unwrap();
    assert_eq!(
        conversation.title,
        "Publish the release notes once someone agrees"
    );
    let [goal, answer] = conversation.messages.as_slice() else {
        panic!("{:?}", conversation.messages)
    };
    assert_eq!((goal.role.as_str(), goal.mode), ("user", ChatMode::Task));
    assert_eq!(answer.mode, ChatMode::Task);
    assert!(answer.content.contains("1 step(s)"), "{}", answer.content);
    let run = answer.run_id.clone().expect("the answer names its run");

    // The run waits for a person; approved, it succeeds.
    let waiting = run_until(&h, &me, &run, |d| {
        d.steps.iter().any(|s| s.status == "awaiting_approval")
    })
    .await;
    let step = waiting.steps[0].key.clone();
    h.service
        .decide(&me, &run, &step, Verdict::Approve, "from the panel".into())
        .await
        .unwrap();
    let done = run_until(&h, &me, &run, |d| {
        d.status == "succeeded" || d.status == "failed"
    })
    .await;
    assert_eq!(done.status, "succeeded", "{:?}", done.reason);

    // A chat message after it: the task's turns are not part of the model's prompt.
    let chat = h
        .service
        .send_chat(&me, say(Some(&id), "And now?"))
        .await
        .unwrap();
    let seen = followed(&h, &me, &id, chat.seq).await;
    let figures = seen.last().unwrap().figures.clone().unwrap();
    let alone = h
        .service
        .send_chat(&me, say(None, "And now?"))
        .await
        .unwrap();
    let alone_seen = followed(&h, &me, &alone.conversation, alone.seq).await;
    assert_eq!(
        figures.prompt_tokens,
        alone_seen
            .last()
            .unwrap()
            .figures
            .clone()
            .unwrap()
            .prompt_tokens,
        "the same prompt as the message alone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goal_without_a_model_is_refused_naming_the_setting_and_nothing_is_recorded() {
    let h = Harness::new().await;
    let me = operator(&h);
    let refused = h
        .service
        .send_task(&me, say(None, "Publish the notes"))
        .await
        .unwrap_err();
    assert_eq!(refused.kind.status(), 503, "{refused:?}");
    assert!(
        refused.message.contains("set `models`"),
        "{}",
        refused.message
    );
    assert!(h.service.conversations(&me).await.unwrap().is_empty());
    let blank = h
        .service
        .send_task(&me, say(None, "   "))
        .await
        .unwrap_err();
    assert_eq!(blank.kind.status(), 400);
    assert!(blank.message.contains("message"), "{}", blank.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_picker_lists_configured_models_and_a_model_not_configured_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |f| f.inference_max_tokens = Some(4)).await;
    let me = operator(&h);
    let models = h.service.chat_models(&me).await.unwrap();
    assert_eq!(models.len(), 1, "{models:?}");
    assert_eq!(
        (models[0].id.as_str(), models[0].state.as_str()),
        ("tiny", "ready")
    );
    assert!(models[0].default && models[0].detail.is_empty());
    let mut send = say(None, "hello");
    send.model = Some("nope".into());
    let refused = h.service.send_chat(&me, send).await.unwrap_err();
    assert_eq!(refused.kind.status(), 404, "{refused:?}");
    assert!(refused.message.contains("nope"), "{}", refused.message);
    assert!(h.service.conversations(&me).await.unwrap().is_empty());
    // Picked by name, it is the conversation's model.
    let mut send = say(None, "hello");
    send.model = Some("tiny".into());
    let started = h.service.send_chat(&me, send).await.unwrap();
    followed(&h, &me, &started.conversation, started.seq).await;
    let conversation = h
        .service
        .conversation(&me, &started.conversation)
        .await
        .unwrap();
    assert_eq!(conversation.model.as_deref(), Some("tiny"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_stopped_while_planning_has_its_run_cancelled_as_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let h = planning_one_approval(dir.path()).await;
    let me = operator(&h);
    let started = h
        .service
        .send_task(&me, say(None, "Ship the release once someone agrees"))
        .await
        .unwrap();
    let (id, seq) = (started.conversation.clone(), started.seq);
    h.service.stop_answer(&me, &id, seq).await.unwrap();
    let seen = followed(&h, &me, &id, seq).await;
    let last = seen.last().unwrap();
    assert_eq!(last.status, AnswerStatus::Stopped, "{last:?}");
    assert!(last.content.contains("cancelled as it started"), "{last:?}");
    let conversation = h.service.conversation(&me, &id).await.unwrap();
    let run = conversation.messages[1]
        .run_id
        .clone()
        .expect("the run is named");
    let detail = run_until(&h, &me, &run, |d| {
        matches!(d.status.as_str(), "cancelled" | "succeeded" | "failed")
    })
    .await;
    assert_eq!(detail.status, "cancelled");
    assert!(
        detail
            .reason
            .unwrap_or_default()
            .contains("stopped in the orchestrator panel"),
    );
}
