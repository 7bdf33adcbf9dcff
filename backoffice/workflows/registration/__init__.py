"""Registration of counsel, from invitation to an active portal account (DOMAIN.md, steps 1 to 5).

- `machine`: the one state machine, its refusals, and the invitations (or counsel's own request) that start it;
- `form`: the registration form sent with the invitation: made, read when it comes back, its values checked;
- `returned_form`: the returned form recorded, which moves the registration on;
- `meetings`: the identity verification meeting in Webex, and the stages that end it (identity recorded, hold,
  withdrawal);
- `codes` and `invitation_codes`: the invitation code, and its redemption by the portal with an SMS access code.

A module imports only those before it in this list (`form` and `codes` none of them).
"""
