//! Who may manage whom: a person's standing, from the roles they hold.
//!
//! Holding "manage people" over an agency is not enough to manage everyone in it: changing
//! someone's email, inviting them again, deactivating them or changing their roles is
//! taking charge of their account, so it needs equal or higher standing.
//!
//! Standing, highest first: Lead admin, training coordinator, executive director,
//! agency administrator, everyone else (proctor, auditor, supervisor, security officer,
//! trainee). The executive director stands above the agency administrator because they
//! co-sign agreements: an administrator who could take their director's account could sign
//! in their name.
//!
//! Implementation staff (anyone holding an implementation role) are managed only by a Lead
//! admin, or by someone who holds every implementation role they hold.

use crate::authz::Actor;
use crate::role::{AgencyRole, ImplementationRole};

/// How far up someone stands, lowest first (so `Ord` compares standings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// Trainees, proctors, auditors, supervisors, security officers.
    Member,
    AgencyAdministrator,
    ExecutiveDirector,
    TrainingCoordinator,
    LeadAdmin,
}

impl Standing {
    /// The standing one role gives.
    pub fn of_implementation_role(r: ImplementationRole) -> Standing {
        match r {
            ImplementationRole::LeadAdmin => Standing::LeadAdmin,
            ImplementationRole::TrainingCoordinator => Standing::TrainingCoordinator,
            ImplementationRole::Proctor | ImplementationRole::Auditor => Standing::Member,
        }
    }

    pub fn of_agency_role(r: AgencyRole) -> Standing {
        match r {
            AgencyRole::ExecutiveDirector => Standing::ExecutiveDirector,
            AgencyRole::AgencyAdministrator => Standing::AgencyAdministrator,
            AgencyRole::SecurityOfficer | AgencyRole::Supervisor => Standing::Member,
        }
    }
}

/// The roles someone holds (in any agency).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holding {
    pub implementation_roles: Vec<ImplementationRole>,
    pub agency_roles: Vec<AgencyRole>,
}

impl Holding {
    pub fn new(implementation_roles: &[ImplementationRole], agency_roles: &[AgencyRole]) -> Self {
        Self {
            implementation_roles: implementation_roles.to_vec(),
            agency_roles: agency_roles.to_vec(),
        }
    }

    /// The highest standing any of the roles gives.
    pub fn standing(&self) -> Standing {
        self.implementation_roles
            .iter()
            .map(|r| Standing::of_implementation_role(*r))
            .chain(
                self.agency_roles
                    .iter()
                    .map(|r| Standing::of_agency_role(*r)),
            )
            .max()
            .unwrap_or(Standing::Member)
    }

    /// Whether this person is implementation staff (holds an implementation role).
    pub fn is_implementation_staff(&self) -> bool {
        !self.implementation_roles.is_empty()
    }

    /// Whether someone holding `self` may take charge of the account of someone holding
    /// `target`: equal or higher standing, and for implementation staff, Lead admin or every
    /// implementation role they hold.
    pub fn may_manage(&self, target: &Holding) -> bool {
        if self.standing() < target.standing() {
            return false;
        }
        if target.is_implementation_staff() {
            return self
                .implementation_roles
                .contains(&ImplementationRole::LeadAdmin)
                || target
                    .implementation_roles
                    .iter()
                    .all(|r| self.implementation_roles.contains(r));
        }
        true
    }

    /// The holding after granting (or taking away) one role.
    pub fn with_implementation_role(&self, role: ImplementationRole, granted: bool) -> Holding {
        let mut h = self.clone();
        h.implementation_roles.retain(|r| *r != role);
        if granted {
            h.implementation_roles.push(role);
        }
        h
    }

    /// The holding with one more agency role (for checking a grant).
    pub fn with_agency_role(&self, role: AgencyRole) -> Holding {
        let mut h = self.clone();
        if !h.agency_roles.contains(&role) {
            h.agency_roles.push(role);
        }
        h
    }
}

impl Actor {
    /// The roles this actor holds, for standing.
    pub fn holding(&self) -> Holding {
        Holding {
            implementation_roles: self.implementation_roles.clone(),
            agency_roles: self.agency_roles.iter().map(|(_, r)| *r).collect(),
        }
    }

    /// Whether the actor stands high enough to manage someone holding `target`.
    pub fn may_manage(&self, target: &Holding) -> bool {
        self.holding().may_manage(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AgencyRole as A;
    use ImplementationRole as I;

    fn h(i: &[I], a: &[A]) -> Holding {
        Holding::new(i, a)
    }

    #[test]
    fn standing_is_the_highest_role() {
        assert_eq!(h(&[], &[]).standing(), Standing::Member);
        assert_eq!(h(&[I::Proctor], &[]).standing(), Standing::Member);
        assert_eq!(h(&[I::Auditor], &[]).standing(), Standing::Member);
        assert_eq!(
            h(&[], &[A::Supervisor, A::AgencyAdministrator]).standing(),
            Standing::AgencyAdministrator
        );
        assert_eq!(
            h(&[], &[A::ExecutiveDirector]).standing(),
            Standing::ExecutiveDirector
        );
        assert_eq!(
            h(&[I::Proctor, I::TrainingCoordinator], &[]).standing(),
            Standing::TrainingCoordinator
        );
        assert_eq!(
            h(&[I::LeadAdmin], &[A::Supervisor]).standing(),
            Standing::LeadAdmin
        );
        assert!(Standing::LeadAdmin > Standing::TrainingCoordinator);
        assert!(Standing::TrainingCoordinator > Standing::ExecutiveDirector);
        assert!(Standing::ExecutiveDirector > Standing::AgencyAdministrator);
        assert!(Standing::AgencyAdministrator > Standing::Member);
    }

    #[test]
    fn a_training_coordinator_does_not_manage_a_lead_admin() {
        let coordinator = h(&[I::TrainingCoordinator], &[]);
        let lead = h(&[I::LeadAdmin], &[]);
        assert!(!coordinator.may_manage(&lead));
        assert!(lead.may_manage(&coordinator));
        assert!(lead.may_manage(&lead));
    }

    #[test]
    fn implementation_staff_are_managed_by_lead_admins_or_holders_of_all_their_roles() {
        let coordinator = h(&[I::TrainingCoordinator], &[]);
        let proctor = h(&[I::Proctor], &[]);
        let auditor = h(&[I::Auditor], &[]);
        let lead = h(&[I::LeadAdmin], &[]);
        assert!(!coordinator.may_manage(&proctor));
        assert!(!coordinator.may_manage(&auditor));
        assert!(coordinator.may_manage(&coordinator));
        assert!(h(&[I::TrainingCoordinator, I::Proctor], &[]).may_manage(&proctor));
        assert!(lead.may_manage(&proctor) && lead.may_manage(&auditor));
        // An agency administrator never manages implementation staff, whatever they hold.
        let ata = h(&[], &[A::AgencyAdministrator]);
        assert!(!ata.may_manage(&auditor));
        assert!(!ata.may_manage(&h(&[I::Proctor], &[A::Supervisor])));
    }

    #[test]
    fn an_agency_administrator_manages_their_staff_but_not_their_director() {
        let ata = h(&[], &[A::AgencyAdministrator, A::Supervisor]);
        assert!(ata.may_manage(&h(&[], &[])));
        assert!(ata.may_manage(&h(&[], &[A::SecurityOfficer])));
        assert!(ata.may_manage(&h(&[], &[A::Supervisor])));
        assert!(ata.may_manage(&h(&[], &[A::AgencyAdministrator])));
        assert!(!ata.may_manage(&h(&[], &[A::ExecutiveDirector])));
        // Nor make someone their director: the grant would put them above the grantor.
        assert!(!ata.may_manage(&h(&[], &[]).with_agency_role(A::ExecutiveDirector)));
        let coordinator = h(&[I::TrainingCoordinator], &[]);
        assert!(coordinator.may_manage(&h(&[], &[A::ExecutiveDirector])));
    }

    #[test]
    fn grants_change_the_holding() {
        let t = h(&[], &[]);
        assert_eq!(
            t.with_implementation_role(I::LeadAdmin, true).standing(),
            Standing::LeadAdmin
        );
        let lead = h(&[I::LeadAdmin, I::Proctor], &[]);
        assert_eq!(
            lead.with_implementation_role(I::LeadAdmin, false),
            h(&[I::Proctor], &[])
        );
    }
}
