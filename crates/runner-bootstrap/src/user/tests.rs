use super::*;

fn account(name: &str, uid: u32) -> Account {
    Account {
        name: name.to_owned(),
        uid,
        gid: uid,
        home: PathBuf::from(format!("/home/{name}")),
    }
}

fn db(name: &str) -> Result<Option<Account>, String> {
    Ok(match name {
        "runner" => Some(account("runner", 1001)),
        "alice" => Some(account("alice", 1000)),
        "root" => Some(account("root", 0)),
        _ => None,
    })
}

fn no_runner_db(name: &str) -> Result<Option<Account>, String> {
    if name == "runner" { Ok(None) } else { db(name) }
}

#[test]
fn root_switches_to_the_runner_user_by_default() {
    assert_eq!(
        resolve(0, None, false, db).unwrap(),
        RunAs::Account(account("runner", 1001))
    );
    // Even when root is allowed, a runner user is preferred.
    assert_eq!(
        resolve(0, None, true, db).unwrap(),
        RunAs::Account(account("runner", 1001))
    );
}

#[test]
fn root_without_runner_user_needs_the_opt_in() {
    assert!(matches!(
        resolve(0, None, false, no_runner_db),
        Err(Error::RootNotAllowed)
    ));
    assert_eq!(resolve(0, None, true, no_runner_db).unwrap(), RunAs::Root);
}

#[test]
fn requested_user_wins_and_must_exist() {
    assert_eq!(
        resolve(0, Some("alice"), false, db).unwrap(),
        RunAs::Account(account("alice", 1000))
    );
    let err = resolve(0, Some("bob"), true, db).unwrap_err();
    assert!(err.to_string().contains("no such user"), "{err}");
    assert!(matches!(
        resolve(0, Some("root"), false, db),
        Err(Error::RootNotAllowed)
    ));
    assert_eq!(resolve(0, Some("root"), true, db).unwrap(), RunAs::Root);
}

#[test]
fn non_root_keeps_its_identity() {
    assert_eq!(
        resolve(1000, None, false, db).unwrap(),
        RunAs::Current { uid: 1000 }
    );
    assert_eq!(
        resolve(1000, Some("alice"), false, db).unwrap(),
        RunAs::Current { uid: 1000 }
    );
    let err = resolve(1000, Some("runner"), false, db).unwrap_err();
    assert!(err.to_string().contains("only root can switch"), "{err}");
}

#[test]
fn lookup_failures_are_reported() {
    let err = resolve(0, None, false, |_| Err("nss broke".to_owned())).unwrap_err();
    assert!(err.to_string().contains("nss broke"), "{err}");
}

#[test]
fn switch_to_only_for_accounts() {
    assert_eq!(
        RunAs::Account(account("runner", 1001)).switch_to(),
        Some((1001, 1001))
    );
    assert_eq!(RunAs::Root.switch_to(), None);
    assert_eq!(RunAs::Current { uid: 5 }.uid(), 5);
}
