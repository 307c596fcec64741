"""The support desk (issue 13 item 6): the `support` role's one job, under the purpose CUSTOMER_SUPPORT
(voipxs/privacy/purposes.py, so the processing register names it).

- selectors.py: find a customer by number or e-mail address (blind index), their account card (account,
  numbers, sign-in status, open rights requests, itemised bills; never traffic)
- services.py: lift a sign-in lockout (django-axes), reset a second factor with a recorded reason, open a
  rights request on the customer's behalf (through accounts/dsr/services.py), change the customer's
  itemised bills at their request with how they asked recorded, and e-mail them that it was done
- views.py, urls.py: the pages under /support/

Only customers: an account with a staff role is not found here, so support can never unlock or reset a
colleague's sign-in (that would be a way past staff two-factor). Every read and write is audited under
CUSTOMER_SUPPORT, by pseudonym, with counts and reason codes only.
"""
