import * as classValidator from 'class-validator';
import { GroupPathDto, JobPathDto, TaskPathDto } from '../jobs/dto/job-path.dto';
import { RequestValidationError } from './request-validation.error';
import { RequestValidationPipe } from './request-validation.pipe';

describe(RequestValidationPipe.name, () => {
  const pipe = new RequestValidationPipe();
  const param = (metatype: new () => object, value: object) =>
    pipe.transform(value, { type: 'param', metatype, data: undefined });

  it('passes valid path parameters as the DTO class', () => {
    const dto = param(JobPathDto, { group: 'g', project: 'p-1', id: 'j_2' });
    expect(dto).toBeInstanceOf(JobPathDto);
    expect(dto).toEqual({ group: 'g', project: 'p-1', id: 'j_2' });
    expect(
      param(TaskPathDto, { group: 'g', project: 'p', id: 'j', taskId: 'g:p:j:0f8f' }),
    ).toBeInstanceOf(TaskPathDto);
  });

  it('checks valid path parameters without running class-validator', () => {
    const validateSync = jest.spyOn(classValidator, 'validateSync');
    try {
      param(JobPathDto, { group: 'g', project: 'p', id: 'j' });
      expect(validateSync).not.toHaveBeenCalled();
      expect(() => param(JobPathDto, { group: 'g', project: 'p', id: 'x:y' })).toThrow(
        RequestValidationError,
      );
      expect(validateSync).toHaveBeenCalledTimes(1);
    } finally {
      validateSync.mockRestore();
    }
  });

  it('names each invalid path parameter', () => {
    expect(() => param(GroupPathDto, { group: 'a/b' })).toThrow(RequestValidationError);
    try {
      param(JobPathDto, { group: 'g', project: 'p q', id: 'x:y' });
    } catch (error) {
      expect([...(error as RequestValidationError).problems].sort()).toEqual([
        "ID: Does not match pattern '^[a-zA-Z0-9-_]+$'",
        "Project: Does not match pattern '^[a-zA-Z0-9-_]+$'",
      ]);
    }
    expect(() => param(TaskPathDto, { group: 'g', project: 'p', id: 'j', taskId: 'nope' })).toThrow(
      'TaskID: Must be a task id of this job',
    );
  });
});
