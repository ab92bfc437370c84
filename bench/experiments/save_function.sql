CREATE OR REPLACE FUNCTION evalapp_save_score(
  p_sheet int, p_indicator int, p_expected int, p_points numeric, p_direct numeric, p_free numeric,
  p_reason text, p_note text, p_user int, p_now timestamp, p_deductions jsonb, p_unit int, p_round int,
  p_ip text, p_detail text)
RETURNS TABLE(status text, new_version int, score_sum numeric, scored int, bonus_sum numeric, vetoed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  s scores%ROWTYPE;
  old_state jsonb;
  sid int;
BEGIN
  SELECT * INTO s FROM scores WHERE sheet_id = p_sheet AND indicator_id = p_indicator;
  IF s.id IS NULL THEN
    IF p_expected <> 0 THEN RETURN QUERY SELECT 'conflict'::text, 0, 0::numeric, 0, 0::numeric, false; RETURN; END IF;
    INSERT INTO scores (sheet_id, indicator_id, points, direct_score, free_deduction, reason, note, version,
                        updated_by_id, updated_at)
    VALUES (p_sheet, p_indicator, p_points, p_direct, p_free, p_reason, p_note, 1, p_user, p_now) RETURNING id INTO sid;
    old_state := jsonb_build_object('score', null, 'version', 0);
  ELSE
    old_state := jsonb_build_object('score', s.points::text, 'direct_score', s.direct_score::text,
      'free_deduction', s.free_deduction::text, 'reason', s.reason, 'note', s.note, 'version', s.version,
      'deductions', (SELECT coalesce(jsonb_agg(jsonb_build_object('rule_id', rule_id, 'count', count)), '[]')
                     FROM score_deductions WHERE score_id = s.id));
    UPDATE scores SET points = p_points, direct_score = p_direct, free_deduction = p_free, reason = p_reason,
      note = p_note, version = version + 1, updated_by_id = p_user, updated_at = p_now
      WHERE id = s.id AND version = p_expected;
    IF NOT FOUND THEN RETURN QUERY SELECT 'conflict'::text, s.version, 0::numeric, 0, 0::numeric, false; RETURN; END IF;
    DELETE FROM score_deductions WHERE score_id = s.id;
    sid := s.id;
  END IF;
  INSERT INTO score_deductions (score_id, rule_id, count)
    SELECT sid, (d->>'rule_id')::int, (d->>'count')::int FROM jsonb_array_elements(p_deductions) d;
  INSERT INTO audit_events (at, user_id, action, object_type, object_id, unit_id, round_id, old, new, detail, ip)
    VALUES (p_now, p_user, 'score.save', 'Score', sid, p_unit, p_round, old_state::json,
            jsonb_build_object('score', p_points::text, 'note', p_note, 'version', coalesce(s.version, 0) + 1,
                               'deductions', p_deductions)::json, p_detail, p_ip);
  RETURN QUERY UPDATE sheets SET updated_at = p_now,
      score_sum = coalesce((SELECT sum(points) FROM scores WHERE scores.sheet_id = sheets.id), 0),
      scored = (SELECT count(id) FROM scores WHERE scores.sheet_id = sheets.id),
      bonus_sum = coalesce((SELECT sum(b.points) FROM bonus_items b JOIN sheet_bonuses sb ON sb.bonus_item_id = b.id
                            WHERE sb.sheet_id = sheets.id), 0),
      vetoed = EXISTS (SELECT 1 FROM sheet_vetoes WHERE sheet_vetoes.sheet_id = sheets.id)
    WHERE sheets.id = p_sheet
    RETURNING 'ok'::text, coalesce(s.version, 0) + 1, sheets.score_sum, sheets.scored, sheets.bonus_sum, sheets.vetoed;
  UPDATE data_versions SET n = n + 1 WHERE name = 'results';
END $$;
