//! The global keyboard map.
//!
//! | keys | action |
//! |---|---|
//! | `[` | collapse/expand the sidebar |
//! | `]` | show/hide the orchestrator panel |
//! | `/` | focus the global search |
//! | `?` | show/hide this list |
//! | `g` then a letter | go to a section (`g r` → Runs; see [`crate::nav::SECTIONS`]) |
//! | `Esc` | close the dialog, popover or drawer; leave a text field |
//!
//! Keys typed into a text field are left alone (but `Esc`), as are chords with Ctrl, Alt or
//! Meta, so the browser's own shortcuts keep working.

use leptos::prelude::*;

use crate::nav;
use crate::shell::ShellState;

/// What a key press asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ToggleLeft,
    ToggleRight,
    FocusSearch,
    ToggleHelp,
    /// `g` was pressed: the next key picks a section.
    StartGo,
    Go(&'static str),
    Escape,
}

/// The key press, reduced to what decides the action.
#[derive(Debug, Clone, Copy)]
pub struct KeyPress<'a> {
    pub key: &'a str,
    pub in_text_field: bool,
    pub with_modifier: bool,
    /// `g` was the previous key.
    pub after_g: bool,
}

/// Maps a key press to an action. Pure, so the map is unit-tested without a browser.
pub fn action_for(press: KeyPress<'_>) -> Option<Action> {
    if press.key == "Escape" {
        return Some(Action::Escape);
    }
    if press.in_text_field || press.with_modifier {
        return None;
    }
    if press.after_g {
        let mut chars = press.key.chars();
        return match (chars.next(), chars.next()) {
            (Some(c), None) => nav::go_target(c.to_ascii_lowercase()).map(|s| Action::Go(s.path)),
            _ => None,
        };
    }
    match press.key {
        "[" => Some(Action::ToggleLeft),
        "]" => Some(Action::ToggleRight),
        "/" => Some(Action::FocusSearch),
        "?" => Some(Action::ToggleHelp),
        "g" => Some(Action::StartGo),
        _ => None,
    }
}

/// Listens on `window` for the shell's shortcuts. Call once, from the shell, inside the router.
pub fn install(state: ShellState) {
    let navigate = leptos_router::hooks::use_navigate();
    let after_g = StoredValue::new(false);

    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let key = ev.key();
            let in_text_field = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
                .is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                        || el.is_content_editable()
                });
            let press = KeyPress {
                key: &key,
                in_text_field,
                with_modifier: ev.ctrl_key() || ev.alt_key() || ev.meta_key(),
                after_g: after_g.get_value(),
            };
            after_g.set_value(false);
            let Some(action) = action_for(press) else {
                return;
            };
            match action {
                Action::ToggleLeft => state.toggle_left(),
                Action::ToggleRight => state.toggle_right(),
                Action::FocusSearch => {
                    if let Some(input) = state.search_input.get_untracked() {
                        let _ = input.focus();
                        input.select();
                    }
                }
                Action::ToggleHelp => state.help_open.update(|open| *open = !*open),
                Action::StartGo => after_g.set_value(true),
                Action::Go(path) => {
                    state.close_drawers();
                    navigate(path, Default::default());
                }
                Action::Escape => {
                    if state.help_open.get_untracked() {
                        state.help_open.set(false);
                    } else if state.open_menu.get_untracked().is_some() {
                        state.open_menu.set(None);
                    } else if !state.close_drawers()
                        && in_text_field
                        && let Some(el) = ev
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
                    {
                        let _ = el.blur();
                    }
                    return;
                }
            }
            ev.prevent_default();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, &state, &navigate, after_g);
    });
    on_cleanup(move || handle.remove());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(key: &str) -> KeyPress<'_> {
        KeyPress {
            key,
            in_text_field: false,
            with_modifier: false,
            after_g: false,
        }
    }

    #[test]
    fn bare_keys_map_to_panel_actions() {
        assert_eq!(action_for(press("[")), Some(Action::ToggleLeft));
        assert_eq!(action_for(press("]")), Some(Action::ToggleRight));
        assert_eq!(action_for(press("/")), Some(Action::FocusSearch));
        assert_eq!(action_for(press("?")), Some(Action::ToggleHelp));
        assert_eq!(action_for(press("x")), None);
    }

    #[test]
    fn typing_and_chords_are_left_to_the_browser() {
        let typing = KeyPress {
            in_text_field: true,
            ..press("[")
        };
        assert_eq!(action_for(typing), None);
        let chord = KeyPress {
            with_modifier: true,
            ..press("/")
        };
        assert_eq!(action_for(chord), None);
        let escape_in_field = KeyPress {
            in_text_field: true,
            ..press("Escape")
        };
        assert_eq!(action_for(escape_in_field), Some(Action::Escape));
    }

    #[test]
    fn g_then_a_letter_goes_to_that_section() {
        assert_eq!(action_for(press("g")), Some(Action::StartGo));
        let go = |key| {
            action_for(KeyPress {
                after_g: true,
                ..press(key)
            })
        };
        assert_eq!(go("r"), Some(Action::Go("/runs")));
        assert_eq!(go("R"), Some(Action::Go("/runs")));
        assert_eq!(go("d"), Some(Action::Go("/")));
        assert_eq!(go("z"), None);
        assert_eq!(go("Shift"), None);
    }
}
