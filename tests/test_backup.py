"""Backup and restore: nothing is lost."""

from sqlalchemy import func, select

from models import District, db


def _districts(app):
    with app.app_context():
        return sorted(db.session.scalars(select(District.name)))


def test_backup_then_restore_gives_the_same_data(app, runner, tmp_path):
    """Does `backup` then `restore` bring back exactly what was backed up?"""
    with app.app_context():
        db.session.add_all([District(name="Участок № 1"), District(name="Участок № 2")])
        db.session.commit()
    path = tmp_path / "opora.backup"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert path.stat().st_size > 0
    before = _districts(app)

    with app.app_context():
        db.session.add(District(name="Участок № 3"))
        db.session.delete(db.session.scalar(select(District).where(District.name == "Участок № 1")))
        db.session.commit()
        db.session.remove()
    assert _districts(app) != before

    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    assert _districts(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(District)) == 2


def test_restore_refuses_a_missing_file(runner, tmp_path):
    """Does restore refuse a path that does not exist, changing nothing?"""
    result = runner.invoke(args=["restore", str(tmp_path / "nope"), "--yes"])
    assert result.exit_code != 0
