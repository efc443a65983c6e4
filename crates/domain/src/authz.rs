//! Who may do what. Plain functions over an [`Actor`]; the services call them before
//! touching anything, so a page or an API client cannot skip them.

use crate::role::{AgencyRole, ImplementationRole, Role};
use serde::Serialize;

/// The signed-in person on whose behalf a service runs.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub person_id: i64,
    pub implementation_id: i64,
    pub display_name: String,
    pub implementation_roles: Vec<ImplementationRole>,
    /// (agency id, role) pairs.
    pub agency_roles: Vec<(i64, AgencyRole)>,
    /// The agency the person works for, if any.
    pub agency_id: Option<i64>,
}

/// What is being asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Change implementation settings, catalogues, agencies and projects.
    ManageImplementation,
    /// See the agencies, projects and catalogues of the implementation.
    ViewOrganisation,
    /// See one agency and its projects.
    ViewAgency(i64),
    /// See the people of the whole implementation.
    ViewAllPeople,
    /// See one person (by their agency, or themselves).
    ViewPerson {
        person_id: i64,
        agency_id: Option<i64>,
    },
    /// Add, edit, deactivate or invite people of an agency (None: people with no agency).
    ManagePeopleOf(Option<i64>),
    /// Grant or take away implementation roles.
    ManageImplementationRoles,
    /// Grant agency roles within an agency.
    ManageAgencyRoles(i64),
    /// Read the audit trail.
    ViewAudit,
    /// See the email outbox and edit email templates.
    ManageOutbox,
    /// Submit an access request for staff of an agency (its agency administrators and supervisors).
    RequestAccessFor(i64),
    /// See the access requests of an agency (its contacts and executive director, and Lead staff).
    ViewRequestsOf(i64),
    /// Work the Lead queue: review, hold, reject, provision.
    WorkQueue,
    /// Edit process templates and agreements.
    ManageProcess,
    /// Write, publish and retire courses; edit requirement rules and learning paths.
    ManageCourses,
    /// Change a person's training plan: waive an item, grant an accommodation, recompute.
    ManageTrainingPlans,
    /// See every course's completion figures and anyone's plan.
    ViewTrainingReports,
    /// See and download one person's certificates: the person, their agency's
    /// administrators, and Lead staff.
    ViewCertificatesOf {
        person_id: i64,
        agency_id: Option<i64>,
    },
    /// Revoke a certificate (Lead admin).
    RevokeCertificates,
    /// Grant training credits to an agency and record the packs it bought (Lead admin).
    ManageTrainingCredits,
    /// See an agency's training-credit balance, movements and charges: Lead staff and
    /// auditors, and the agency's own administrators.
    ViewTrainingCredits(i64),
}

/// Who must use two-step sign-in, chosen per implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MfaPolicy {
    /// Only the admin roles: Lead admin, training coordinator, agency administrator.
    AdminRoles,
    /// Every role that reads people beyond their own record (the default).
    #[default]
    EveryoneWhoReadsOthers,
}

impl Actor {
    pub fn has(&self, role: ImplementationRole) -> bool {
        self.implementation_roles.contains(&role)
    }
    pub fn has_agency_role(&self, agency_id: i64, role: AgencyRole) -> bool {
        self.agency_roles
            .iter()
            .any(|(a, r)| *a == agency_id && *r == role)
    }
    /// Agencies in which this person may manage staff.
    pub fn administered_agencies(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .agency_roles
            .iter()
            .filter(|(_, r)| matches!(r, AgencyRole::AgencyAdministrator))
            .map(|(a, _)| *a)
            .collect();
        v.dedup();
        v
    }
    /// Agencies in which this person may see staff (administrators, executive directors, supervisors).
    pub fn overseen_agencies(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self.agency_roles.iter().map(|(a, _)| *a).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
    /// Agency administrator or supervisor of the agency: its authorized contacts.
    pub fn agency_contact_of(&self, agency_id: i64) -> bool {
        self.has_agency_role(agency_id, AgencyRole::AgencyAdministrator)
            || self.has_agency_role(agency_id, AgencyRole::Supervisor)
    }

    pub fn is_lead_staff(&self) -> bool {
        self.has(ImplementationRole::LeadAdmin) || self.has(ImplementationRole::TrainingCoordinator)
    }
    /// Whether this person must use two-step sign-in under the implementation's policy.
    ///
    /// The admin roles (Lead admin, training coordinator, agency administrator) always must.
    /// Under [`MfaPolicy::EveryoneWhoReadsOthers`] (the default) so must every role that reads
    /// people beyond their own record: every implementation role (proctor, auditor too) and
    /// every agency role (executive director, supervisor, security officer too). A trainee
    /// with no role never must.
    pub fn requires_mfa(&self, policy: MfaPolicy) -> bool {
        let admin = self.has(ImplementationRole::LeadAdmin)
            || self.has(ImplementationRole::TrainingCoordinator)
            || !self.administered_agencies().is_empty();
        match policy {
            MfaPolicy::AdminRoles => admin,
            MfaPolicy::EveryoneWhoReadsOthers => {
                admin || !self.implementation_roles.is_empty() || !self.agency_roles.is_empty()
            }
        }
    }

    /// The product roles this actor holds; everyone is a trainee of their own records.
    pub fn roles(&self) -> Vec<Role> {
        let mut out = Vec::new();
        for r in &self.implementation_roles {
            out.push(match r {
                ImplementationRole::LeadAdmin => Role::LeadAdmin,
                ImplementationRole::TrainingCoordinator => Role::TrainingCoordinator,
                ImplementationRole::Proctor => Role::Proctor,
                ImplementationRole::Auditor => Role::Auditor,
            });
        }
        for (_, r) in &self.agency_roles {
            let role = match r {
                AgencyRole::AgencyAdministrator => Role::AgencyAdministrator,
                AgencyRole::ExecutiveDirector => Role::ExecutiveDirector,
                _ => continue,
            };
            if !out.contains(&role) {
                out.push(role);
            }
        }
        out.push(Role::Trainee);
        out
    }

    pub fn may(&self, p: Permission) -> bool {
        use ImplementationRole as I;
        let lead = self.has(I::LeadAdmin);
        let coordinator = self.has(I::TrainingCoordinator);
        let staff_reader = lead || coordinator || self.has(I::Proctor) || self.has(I::Auditor);
        match p {
            Permission::ManageImplementation => lead,
            Permission::ViewOrganisation => staff_reader,
            Permission::ViewAgency(a) => staff_reader || self.overseen_agencies().contains(&a),
            Permission::ViewAllPeople => staff_reader,
            Permission::ViewPerson {
                person_id,
                agency_id,
            } => {
                person_id == self.person_id
                    || staff_reader
                    || agency_id.is_some_and(|a| self.overseen_agencies().contains(&a))
            }
            Permission::ManagePeopleOf(agency) => {
                lead || coordinator
                    || agency.is_some_and(|a| self.administered_agencies().contains(&a))
            }
            Permission::ManageImplementationRoles => lead,
            Permission::ManageAgencyRoles(a) => {
                lead || coordinator || self.administered_agencies().contains(&a)
            }
            Permission::ViewAudit => lead || self.has(I::Auditor),
            Permission::ManageOutbox => lead,
            Permission::RequestAccessFor(a) => lead || coordinator || self.agency_contact_of(a),
            Permission::ViewRequestsOf(a) => staff_reader || self.overseen_agencies().contains(&a),
            Permission::WorkQueue => lead || coordinator,
            Permission::ManageCourses => lead || coordinator,
            Permission::ManageTrainingPlans => lead || coordinator,
            Permission::ViewTrainingReports => staff_reader,
            Permission::ManageProcess => lead || coordinator,
            Permission::ViewCertificatesOf {
                person_id,
                agency_id,
            } => {
                person_id == self.person_id
                    || lead
                    || coordinator
                    || agency_id.is_some_and(|a| self.administered_agencies().contains(&a))
            }
            Permission::RevokeCertificates => lead,
            Permission::ManageTrainingCredits => lead,
            Permission::ViewTrainingCredits(a) => {
                lead || coordinator
                    || self.has(I::Auditor)
                    || self.administered_agencies().contains(&a)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_that_reads_others_needs_two_step_sign_in_by_default() {
        use AgencyRole as A;
        use ImplementationRole as I;
        let policy = MfaPolicy::default();
        assert_eq!(policy, MfaPolicy::EveryoneWhoReadsOthers);
        for r in I::ALL {
            assert!(actor(&[r], &[]).requires_mfa(policy), "{r:?}");
        }
        for r in A::ALL {
            assert!(actor(&[], &[(3, r)]).requires_mfa(policy), "{r:?}");
        }
        assert!(!actor(&[], &[]).requires_mfa(policy), "a trainee");
    }

    #[test]
    fn with_the_policy_off_only_the_admin_roles_need_two_step_sign_in() {
        use AgencyRole as A;
        use ImplementationRole as I;
        let policy = MfaPolicy::AdminRoles;
        for (r, must) in [
            (I::LeadAdmin, true),
            (I::TrainingCoordinator, true),
            (I::Proctor, false),
            (I::Auditor, false),
        ] {
            assert_eq!(actor(&[r], &[]).requires_mfa(policy), must, "{r:?}");
        }
        for (r, must) in [
            (A::AgencyAdministrator, true),
            (A::ExecutiveDirector, false),
            (A::Supervisor, false),
            (A::SecurityOfficer, false),
        ] {
            assert_eq!(actor(&[], &[(3, r)]).requires_mfa(policy), must, "{r:?}");
        }
        assert!(!actor(&[], &[]).requires_mfa(policy));
    }

    fn actor(impl_roles: &[ImplementationRole], agency_roles: &[(i64, AgencyRole)]) -> Actor {
        Actor {
            person_id: 1,
            implementation_id: 1,
            display_name: "A".into(),
            implementation_roles: impl_roles.to_vec(),
            agency_roles: agency_roles.to_vec(),
            agency_id: agency_roles.first().map(|(a, _)| *a),
        }
    }

    #[test]
    fn agency_administrator_is_confined_to_their_agency() {
        let a = actor(&[], &[(7, AgencyRole::AgencyAdministrator)]);
        assert!(a.may(Permission::ManagePeopleOf(Some(7))));
        assert!(!a.may(Permission::ManagePeopleOf(Some(8))));
        assert!(!a.may(Permission::ManagePeopleOf(None)));
        assert!(a.may(Permission::ViewPerson {
            person_id: 9,
            agency_id: Some(7)
        }));
        assert!(!a.may(Permission::ViewPerson {
            person_id: 9,
            agency_id: Some(8)
        }));
        assert!(!a.may(Permission::ViewAllPeople));
        assert!(!a.may(Permission::ManageImplementation));
        assert!(a.requires_mfa(MfaPolicy::AdminRoles));
    }

    #[test]
    fn trainee_sees_only_themselves() {
        let t = actor(&[], &[]);
        assert!(t.may(Permission::ViewPerson {
            person_id: 1,
            agency_id: Some(3)
        }));
        assert!(!t.may(Permission::ViewPerson {
            person_id: 2,
            agency_id: Some(3)
        }));
        assert!(!t.may(Permission::ViewOrganisation));
        assert!(!t.may(Permission::ViewAudit));
        assert!(!t.requires_mfa(MfaPolicy::default()));
        assert_eq!(t.roles(), vec![Role::Trainee]);
    }

    #[test]
    fn auditor_reads_but_never_changes() {
        let a = actor(&[ImplementationRole::Auditor], &[]);
        assert!(a.may(Permission::ViewAudit));
        assert!(a.may(Permission::ViewAllPeople));
        assert!(!a.may(Permission::ManagePeopleOf(Some(1))));
        assert!(!a.may(Permission::ManageImplementation));
        assert!(!a.may(Permission::ManageOutbox));
    }

    #[test]
    fn certificates_are_seen_by_their_person_their_agency_administrators_and_lead_staff() {
        let of = |person_id, agency_id| Permission::ViewCertificatesOf {
            person_id,
            agency_id,
        };
        let trainee = actor(&[], &[]);
        assert!(trainee.may(of(1, Some(3))));
        assert!(!trainee.may(of(2, Some(3))));
        let admin = actor(&[], &[(3, AgencyRole::AgencyAdministrator)]);
        assert!(admin.may(of(2, Some(3))));
        assert!(!admin.may(of(2, Some(4))));
        assert!(!admin.may(of(2, None)));
        for r in [
            AgencyRole::ExecutiveDirector,
            AgencyRole::Supervisor,
            AgencyRole::SecurityOfficer,
        ] {
            assert!(!actor(&[], &[(3, r)]).may(of(2, Some(3))), "{r:?}");
        }
        for (r, sees, revokes) in [
            (ImplementationRole::LeadAdmin, true, true),
            (ImplementationRole::TrainingCoordinator, true, false),
            (ImplementationRole::Proctor, false, false),
            (ImplementationRole::Auditor, false, false),
        ] {
            let a = actor(&[r], &[]);
            assert_eq!(a.may(of(2, None)), sees, "{r:?}");
            assert_eq!(a.may(Permission::RevokeCertificates), revokes, "{r:?}");
        }
        assert!(!admin.may(Permission::RevokeCertificates));
    }

    #[test]
    fn training_credits_are_managed_by_the_lead_and_seen_by_their_agency_administrators() {
        let admin = actor(&[], &[(3, AgencyRole::AgencyAdministrator)]);
        assert!(admin.may(Permission::ViewTrainingCredits(3)));
        assert!(!admin.may(Permission::ViewTrainingCredits(4)));
        assert!(!admin.may(Permission::ManageTrainingCredits));
        for r in [
            AgencyRole::ExecutiveDirector,
            AgencyRole::Supervisor,
            AgencyRole::SecurityOfficer,
        ] {
            assert!(
                !actor(&[], &[(3, r)]).may(Permission::ViewTrainingCredits(3)),
                "{r:?}"
            );
        }
        assert!(!actor(&[], &[]).may(Permission::ViewTrainingCredits(3)));
        for (r, sees, manages) in [
            (ImplementationRole::LeadAdmin, true, true),
            (ImplementationRole::TrainingCoordinator, true, false),
            (ImplementationRole::Auditor, true, false),
            (ImplementationRole::Proctor, false, false),
        ] {
            let a = actor(&[r], &[]);
            assert_eq!(a.may(Permission::ViewTrainingCredits(3)), sees, "{r:?}");
            assert_eq!(a.may(Permission::ManageTrainingCredits), manages, "{r:?}");
        }
    }

    #[test]
    fn executive_director_sees_but_does_not_manage_staff() {
        let e = actor(&[], &[(4, AgencyRole::ExecutiveDirector)]);
        assert!(e.may(Permission::ViewAgency(4)));
        assert!(e.may(Permission::ViewPerson {
            person_id: 5,
            agency_id: Some(4)
        }));
        assert!(!e.may(Permission::ManagePeopleOf(Some(4))));
        assert!(e.roles().contains(&Role::ExecutiveDirector));
    }
}
