SELECT eventsource, eventname, eventtype, errorcode, errormessage,
       useridentity.type AS identity_type, useridentity.arn AS arn,
       useridentity.sessioncontext.sessionissuer.arn AS issuer_arn,
       count(*) AS calls, min(eventtime) AS first_seen, max(eventtime) AS last_seen
FROM "logs"."trail"
WHERE "timestamp" BETWEEN '2024/12/30' AND '2025/01/02'
  AND eventtime >= '2024-12-30T00:00:00Z'
  AND eventtime < '2025-01-02T00:00:00Z'
  AND account IN ('111122223333')
  AND region IN ('us-east-1', 'eu-west-1')
  AND ((useridentity.arn = 'arn:aws:iam::123456789012:user/lppg-user' OR useridentity.sessioncontext.sessionissuer.arn = 'arn:aws:iam::123456789012:user/lppg-user'))
  AND errorcode IN ('AccessDenied', 'AccessDeniedException', 'AuthorizationError', 'AuthorizationErrorException', 'Client.UnauthorizedOperation', 'UnauthorizedOperation')
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ORDER BY 1, 2, 4, 7
