//! Panel state for the shell, and how it reaches the page and survives reloads.
//!
//! Desktop layout (`left_collapsed`, `right_open`, the chat mode) is saved in `localStorage`.
//! The narrow-screen drawers are not: a drawer left open on a phone should not greet you on
//! the next visit. Every change is mirrored onto `<html>` as `data-left`, `data-right`,
//! `data-left-drawer`, `data-right-drawer` (the CSS reads only those), so the pre-paint script
//! in `lib.rs` and the reactive state drive the same selectors.

use leptos::prelude::*;
use switchyard_protocol::ChatMode;

/// `localStorage` keys. The pre-paint script in `lib.rs` reads the first two.
pub const KEY_LEFT: &str = "switchyard.left";
pub const KEY_RIGHT: &str = "switchyard.right";
pub const KEY_MODE: &str = "switchyard.mode";

/// Width below which both sidebars are drawers (must match `style/main.css`).
pub const NARROW_QUERY: &str = "(max-width: 767px)";

/// The top bar's popovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Menu {
    Notifications,
    Account,
}

/// Open/closed state of every panel. `Copy`: signals are handles.
#[derive(Debug, Clone, Copy)]
pub struct ShellState {
    /// Desktop: the left sidebar is reduced to an icon rail.
    pub left_collapsed: RwSignal<bool>,
    /// Desktop: the orchestrator panel is shown.
    pub right_open: RwSignal<bool>,
    /// Narrow screens: the left drawer is open.
    pub left_drawer: RwSignal<bool>,
    /// Narrow screens: the right drawer is open.
    pub right_drawer: RwSignal<bool>,
    pub help_open: RwSignal<bool>,
    /// The top bar's open popover, if any: one at a time.
    pub open_menu: RwSignal<Option<Menu>>,
    pub mode: RwSignal<ChatMode>,
    /// The viewport is below the drawer breakpoint. False on the server (which renders the
    /// desktop layout; CSS alone turns the sidebars into drawers before any script runs), set
    /// after hydration and on every resize, so `aria-expanded` follows the real layout.
    pub narrow: RwSignal<bool>,
    /// The global search input, focused by `/`.
    pub search_input: NodeRef<leptos::html::Input>,
}

impl ShellState {
    /// Creates the state with server-side defaults and provides it as context.
    pub fn provide() -> Self {
        let state = Self {
            left_collapsed: RwSignal::new(false),
            right_open: RwSignal::new(true),
            left_drawer: RwSignal::new(false),
            right_drawer: RwSignal::new(false),
            help_open: RwSignal::new(false),
            open_menu: RwSignal::new(None),
            mode: RwSignal::new(ChatMode::default()),
            narrow: RwSignal::new(false),
            search_input: NodeRef::new(),
        };
        provide_context(state);
        state
    }

    /// The state provided by the enclosing [`crate::shell::AppShell`].
    pub fn expect() -> Self {
        expect_context::<Self>()
    }

    /// `[`: collapse or expand the sidebar (a drawer on narrow screens).
    pub fn toggle_left(&self) {
        if self.narrow.get_untracked() {
            self.right_drawer.set(false);
            self.left_drawer.update(|open| *open = !*open);
        } else {
            self.left_collapsed.update(|c| *c = !*c);
        }
    }

    /// `]`: show or hide the orchestrator panel (a drawer on narrow screens).
    pub fn toggle_right(&self) {
        if self.narrow.get_untracked() {
            self.left_drawer.set(false);
            self.right_drawer.update(|open| *open = !*open);
        } else {
            self.right_open.update(|o| *o = !*o);
        }
    }

    /// Opens `menu`, or closes it if it is the one open.
    pub fn toggle_menu(&self, menu: Menu) {
        self.open_menu.update(|open| {
            *open = if *open == Some(menu) {
                None
            } else {
                Some(menu)
            }
        });
    }

    /// Closes both drawers; true if one was open.
    pub fn close_drawers(&self) -> bool {
        let was_open = self.left_drawer.get_untracked() || self.right_drawer.get_untracked();
        self.left_drawer.set(false);
        self.right_drawer.set(false);
        was_open
    }

    /// Whether the left navigation is visible right now, for `aria-expanded`.
    pub fn left_expanded(&self) -> Signal<bool> {
        let state = *self;
        Signal::derive(move || {
            if state.narrow.get() {
                state.left_drawer.get()
            } else {
                !state.left_collapsed.get()
            }
        })
    }

    /// Whether the orchestrator panel is visible right now, for `aria-expanded`.
    pub fn right_expanded(&self) -> Signal<bool> {
        let state = *self;
        Signal::derive(move || {
            if state.narrow.get() {
                state.right_drawer.get()
            } else {
                state.right_open.get()
            }
        })
    }
}

/// Asks the browser whether the viewport is below the drawer breakpoint (false on the server).
fn viewport_is_narrow() -> bool {
    #[cfg(feature = "hydrate")]
    {
        window()
            .match_media(NARROW_QUERY)
            .ok()
            .flatten()
            .is_some_and(|query| query.matches())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

/// After hydration: load saved layout once, then save and mirror every change. Also marks
/// `<html data-hydrated="true">`, which the end-to-end tests wait for, and keeps
/// [`ShellState::narrow`] in step with the viewport.
pub fn sync_with_browser(state: ShellState) {
    let on_resize = window_event_listener(leptos::ev::resize, move |_| {
        let narrow = viewport_is_narrow();
        if narrow != state.narrow.get_untracked() {
            state.narrow.set(narrow);
            state.left_drawer.set(false);
            state.right_drawer.set(false);
        }
    });
    on_cleanup(move || on_resize.remove());
    // A click anywhere outside the open popover (and its button) closes it.
    let on_click = window_event_listener(leptos::ev::click, move |ev| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if state.open_menu.get_untracked().is_none() {
                return;
            }
            let inside = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest(".menu-anchor").ok().flatten())
                .is_some();
            if !inside {
                state.open_menu.set(None);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    });
    on_cleanup(move || on_click.remove());
    Effect::new(move |loaded: Option<()>| {
        #[cfg(feature = "hydrate")]
        {
            if loaded.is_none() {
                state.narrow.set(viewport_is_narrow());
                browser::load(state);
            }
            browser::save_and_mirror(state);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (loaded, state);
    });
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use switchyard_protocol::ChatMode;

    use super::{KEY_LEFT, KEY_MODE, KEY_RIGHT, ShellState};

    fn storage() -> Option<web_sys::Storage> {
        window().local_storage().ok().flatten()
    }

    /// Reads saved layout into the signals. Runs before the first tracked read, so setting
    /// does not re-trigger the effect.
    pub fn load(state: ShellState) {
        let Some(storage) = storage() else { return };
        let get = |key| storage.get_item(key).ok().flatten();
        if let Some(left) = get(KEY_LEFT) {
            state.left_collapsed.set(left == "collapsed");
        }
        if let Some(right) = get(KEY_RIGHT) {
            state.right_open.set(right != "closed");
        }
        if let Some(mode) = get(KEY_MODE).as_deref().and_then(ChatMode::parse) {
            state.mode.set(mode);
        }
    }

    pub fn save_and_mirror(state: ShellState) {
        let left = if state.left_collapsed.get() {
            "collapsed"
        } else {
            "open"
        };
        let right = if state.right_open.get() {
            "open"
        } else {
            "closed"
        };
        let open = |b: bool| if b { "open" } else { "closed" };
        let left_drawer = open(state.left_drawer.get());
        let right_drawer = open(state.right_drawer.get());
        let mode = state.mode.get().as_str();

        if let Some(storage) = storage() {
            // Private browsing can refuse writes; the layout then lasts for this tab only.
            let _ = storage.set_item(KEY_LEFT, left);
            let _ = storage.set_item(KEY_RIGHT, right);
            let _ = storage.set_item(KEY_MODE, mode);
        }
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-left", left);
            let _ = root.set_attribute("data-right", right);
            let _ = root.set_attribute("data-left-drawer", left_drawer);
            let _ = root.set_attribute("data-right-drawer", right_drawer);
            let _ = root.set_attribute("data-hydrated", "true");
        }
    }
}
