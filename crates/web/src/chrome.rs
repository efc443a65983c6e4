//! What every page shares: title, navigation by role, the CSRF token, a flash message.

use crate::session::Viewer;
use axum_extra::extract::cookie::{Cookie, CookieJar};
use onramp_domain::authz::Permission;

pub const FLASH_COOKIE: &str = "onramp_flash";

#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub title: String,
    pub nav: Vec<NavItem>,
    /// The signed-in person's name, when fully signed in.
    pub user: Option<String>,
    pub csrf: String,
    pub flash: Option<String>,
}

impl Chrome {
    /// A page with no navigation (sign-in, errors).
    pub fn bare(title: &str) -> Self {
        Self {
            title: title.to_string(),
            ..Default::default()
        }
    }

    /// A page for a signed-in person; `section` marks the current navigation entry.
    pub fn for_viewer(v: &Viewer, title: &str, section: &str) -> Self {
        let a = &v.ctx.actor;
        let mut nav = vec![NavItem {
            href: "/",
            label: "Home",
            current: false,
        }];
        let request_label = if a.may(Permission::WorkQueue) {
            "Request queue"
        } else if a.may(Permission::ViewOrganisation) || !a.overseen_agencies().is_empty() {
            "Access requests"
        } else {
            "My HMIS access"
        };
        nav.push(NavItem {
            href: "/requests",
            label: request_label,
            current: false,
        });
        nav.push(NavItem {
            href: "/training",
            label: "My training",
            current: false,
        });
        if a.may(Permission::ManageCourses) {
            nav.push(NavItem {
                href: "/courses",
                label: "Courses",
                current: false,
            });
        }
        if a.may(Permission::ManageCourses) {
            nav.push(NavItem {
                href: "/quizzes",
                label: "Quizzes",
                current: false,
            });
        }
        if a.may(Permission::ViewTrainingReports) {
            nav.push(NavItem {
                href: "/reports/training",
                label: "Training report",
                current: false,
            });
            nav.push(NavItem {
                href: "/quiz-reviews",
                label: "Quiz reviews",
                current: false,
            });
        }
        if a.may(Permission::ViewOrganisation) || !a.overseen_agencies().is_empty() {
            nav.push(NavItem {
                href: "/admin/agencies",
                label: "Agencies",
                current: false,
            });
            nav.push(NavItem {
                href: "/admin/projects",
                label: "Projects",
                current: false,
            });
        }
        if a.may(Permission::ViewAllPeople) || !a.overseen_agencies().is_empty() {
            nav.push(NavItem {
                href: "/admin/people",
                label: "People",
                current: false,
            });
        }
        if a.may(Permission::ViewOrganisation) || !a.overseen_agencies().is_empty() {
            nav.push(NavItem {
                href: "/hmis-accounts",
                label: "HMIS accounts",
                current: false,
            });
        }
        if a.may(Permission::ViewOrganisation) {
            nav.push(NavItem {
                href: "/admin/access-levels",
                label: "Access levels",
                current: false,
            });
            nav.push(NavItem {
                href: "/admin/responsibilities",
                label: "Responsibilities",
                current: false,
            });
            nav.push(NavItem {
                href: "/admin/settings",
                label: "Settings",
                current: false,
            });
        }
        if a.may(Permission::ViewAudit) {
            nav.push(NavItem {
                href: "/admin/audit",
                label: "Audit",
                current: false,
            });
        }
        if a.may(Permission::ManageOutbox) {
            nav.push(NavItem {
                href: "/admin/outbox",
                label: "Outbox",
                current: false,
            });
        }
        nav.push(NavItem {
            href: "/account",
            label: "My account",
            current: false,
        });
        for n in &mut nav {
            n.current = n.href == section;
        }
        Self {
            title: title.to_string(),
            nav,
            user: Some(a.display_name.clone()),
            csrf: v.session.csrf_token.clone(),
            flash: None,
        }
    }

    /// Takes the flash message out of the cookie jar, if any.
    pub fn with_flash(mut self, jar: &CookieJar) -> (Self, CookieJar) {
        if let Some(c) = jar.get(FLASH_COOKIE) {
            self.flash = Some(percent_decode(c.value()));
            let mut removal = Cookie::build((FLASH_COOKIE, "")).path("/").build();
            removal.make_removal();
            return (self, jar.clone().add(removal));
        }
        (self, jar.clone())
    }
}

/// A cookie carrying a one-time message to the next page.
/// A redirect to `to` that shows `message` there.
pub fn flash_redirect(jar: CookieJar, message: &str, to: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (jar.add(flash(message)), axum::response::Redirect::to(to)).into_response()
}

pub fn flash(message: &str) -> Cookie<'static> {
    Cookie::build((FLASH_COOKIE, crate::session::urlencode(message)))
        .path("/")
        .http_only(true)
        .build()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
