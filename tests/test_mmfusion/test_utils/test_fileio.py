import json
import os

import numpy as np
import pytest

from mmfusion.utils.fileio import (atomic_open, atomic_write_text, commit_file,
                                   partial_path)


def test_atomic_write_text_replaces_whole_file(tmp_path):
    path = tmp_path / 'last_checkpoint'
    path.write_text('a much longer previous content')
    atomic_write_text(str(path), 'new')
    assert path.read_text() == 'new'
    assert [p.name for p in tmp_path.iterdir()] == ['last_checkpoint']


def test_partial_path_is_a_hidden_sibling(tmp_path):
    assert partial_path(str(tmp_path /
                            'epoch_3.pth')) == str(tmp_path /
                                                   '.epoch_3.pth.partial')


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / 'index.json'
    path.write_text('{"version": 1}')
    with pytest.raises(RuntimeError, match='disk full'):
        with atomic_open(str(path)) as f:
            f.write('{"vers')
            # the final name still holds the old content during the write
            assert json.loads(path.read_text()) == {'version': 1}
            raise RuntimeError('disk full')
    assert path.read_text() == '{"version": 1}'
    assert sorted(os.listdir(tmp_path)) == ['index.json']


def test_binary_writers_and_commit(tmp_path):
    data = np.arange(7, dtype=np.uint32)
    with atomic_open(str(tmp_path / 'frame.npy'), 'wb') as f:
        np.save(f, data)
    np.testing.assert_array_equal(np.load(tmp_path / 'frame.npy'), data)
    # a file written elsewhere first (e.g. torch.save) is committed alike
    tmp = partial_path(str(tmp_path / 'epoch_1.pth'))
    with open(tmp, 'wb') as f:
        f.write(b'checkpoint')
    commit_file(tmp, str(tmp_path / 'epoch_1.pth'))
    assert (tmp_path / 'epoch_1.pth').read_bytes() == b'checkpoint'
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth', 'frame.npy']
